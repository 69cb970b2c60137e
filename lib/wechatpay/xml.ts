export class XmlFormatError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'XmlFormatError';
    }
}

const forbiddenNames = new Set(['__proto__', 'constructor', 'prototype']);

/** A flat `<xml>` document with every value in CDATA, as WeChat sends and expects them. */
export function toXml(params: Record<string, string | number | undefined>, root = 'xml'): string {
    let xml = `<${root}>`;
    for (const [name, value] of Object.entries(params)) {
        if (value !== undefined) {
            xml += typeof value === 'number' ? `<${name}>${value}</${name}>` : `<${name}><![CDATA[${cdataSafe(value)}]]></${name}>`;
        }
    }

    return `${xml}</${root}>`;
}

function cdataSafe(value: string): string {
    return value.replace(/]]>/g, ']]]]><![CDATA[>');
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// XML 1.0 forbids these characters anywhere, even as references.
const forbiddenChars = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

// WeChat's field names are ASCII letters, digits and underscores; anything wider (namespaces, dots) is refused.
const elementName = /[A-Za-z_][A-Za-z0-9_]*/y;
const declaration = /<\?xml\s[^<>?]*\?>/y;
const whitespace = /[ \t\r\n]*/y;
const rawText = /[^<&]*/y;
const reference = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/y;

const namedEntities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * A scanner for the one shape of XML the protocol uses (reference §2.1): an optional declaration, one `<root>`
 * holding one flat level of elements whose values are text, CDATA and the predefined or numeric references, then
 * nothing but whitespace. Anything else is refused: a DTD or entity declaration, comments, processing
 * instructions, attributes, nesting, repeated or reserved names, another root, and any byte after the root (a
 * correctly signed document followed by junk or a second root must not pass as the first one).
 */
class FlatXmlScanner {
    private position = 0;

    constructor(private readonly text: string) {}

    document(root: string): Record<string, string> {
        this.match(declaration);
        this.skipWhitespace();
        this.expect(`<${root}`, `the root element must be <${root}>`);
        const fields: Record<string, string> = Object.create(null);
        if (!this.elementBodyStarts(root)) {
            return this.end(fields);
        }

        for (;;) {
            this.skipWhitespace();
            if (this.text.startsWith('</', this.position)) {
                this.closeTag(root);
                return this.end(fields);
            }

            if (this.text[this.position] !== '<') {
                throw new XmlFormatError(this.position >= this.text.length ? `<${root}> is not closed` : `text directly inside <${root}> is not accepted`);
            }

            ++this.position;
            const name = this.name();
            if (forbiddenNames.has(name)) {
                throw new XmlFormatError(`element <${name}> is not accepted`);
            }

            if (Object.hasOwn(fields, name)) {
                throw new XmlFormatError(`element <${name}> appears more than once`);
            }

            fields[name] = this.elementBodyStarts(name) ? this.value(name) : '';
        }
    }

    /** After `<name`: true for `>` (a body follows), false for `/>`. */
    private elementBodyStarts(name: string): boolean {
        this.skipWhitespace();
        if (this.text.startsWith('/>', this.position)) {
            this.position += 2;
            return false;
        }

        if (this.text[this.position] === '>') {
            ++this.position;
            return true;
        }

        throw new XmlFormatError(`<${name}> is malformed or has attributes, which are not accepted`);
    }

    /** Text, CDATA sections and references up to `</name>`. */
    private value(name: string): string {
        let value = '';
        for (;;) {
            const text = this.match(rawText);
            if (text.includes(']]>')) {
                throw new XmlFormatError(`<${name}> holds "]]>" outside CDATA`);
            }

            value += text;
            if (this.position >= this.text.length) {
                throw new XmlFormatError(`<${name}> is not closed`);
            }

            if (this.text[this.position] === '&') {
                value += this.reference();
            }
            else if (this.text.startsWith('<![CDATA[', this.position)) {
                const end = this.text.indexOf(']]>', this.position + 9);
                if (end < 0) {
                    throw new XmlFormatError(`a CDATA section in <${name}> is not closed`);
                }

                value += this.text.slice(this.position + 9, end);
                this.position = end + 3;
            }
            else if (this.text.startsWith('</', this.position)) {
                this.closeTag(name);
                return value;
            }
            else {
                throw new XmlFormatError(`element <${name}> must hold text only`);
            }
        }
    }

    private reference(): string {
        const found = this.match(reference, true);
        if (!found) {
            throw new XmlFormatError('only the predefined and numeric character references are accepted');
        }

        const [, named, decimal, hex] = found;
        if (named) {
            return namedEntities[named];
        }

        const code = decimal ? Number.parseInt(decimal, 10) : Number.parseInt(hex, 16);
        if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            throw new XmlFormatError(`&#${code}; is not a character`);
        }

        const char = String.fromCodePoint(code);
        if (forbiddenChars.test(char)) {
            throw new XmlFormatError(`&#${code}; is a character XML forbids`);
        }

        return char;
    }

    private closeTag(name: string): void {
        this.expect(`</${name}`, `the element opened as <${name}> is closed by another name`);
        this.skipWhitespace();
        this.expect('>', `</${name}> is malformed`);
    }

    private end(fields: Record<string, string>): Record<string, string> {
        this.skipWhitespace();
        if (this.position !== this.text.length) {
            throw new XmlFormatError('content after the root element is not accepted');
        }

        return fields;
    }

    private name(): string {
        const found = this.match(elementName, true);
        if (!found) {
            throw new XmlFormatError(this.text.startsWith('!', this.position) || this.text.startsWith('?', this.position)
                ? 'comments, CDATA outside elements, declarations and processing instructions are not accepted'
                : 'an element name must be ASCII letters, digits and underscores');
        }

        return found[0];
    }

    private expect(literal: string, message: string): void {
        if (!this.text.startsWith(literal, this.position)) {
            throw new XmlFormatError(message);
        }

        this.position += literal.length;
        // `<xmlfoo>` must not pass for `<xml`: the name has to end here.
        if (/^<\/?[A-Za-z_]/.test(literal) && /[A-Za-z0-9_]/.test(this.text[this.position] ?? '')) {
            throw new XmlFormatError(message);
        }
    }

    private skipWhitespace(): void {
        this.match(whitespace);
    }

    private match(pattern: RegExp, required: true): RegExpExecArray | null;
    private match(pattern: RegExp): string;
    private match(pattern: RegExp, required = false): RegExpExecArray | string | null {
        pattern.lastIndex = this.position;
        const found = pattern.exec(this.text);
        if (!found) {
            return required ? null : '';
        }

        this.position = pattern.lastIndex;
        return required ? found : found[0];
    }
}

/**
 * Parses one flat level of elements under `root` into a map of strings (see FlatXmlScanner for what is refused).
 * Bytes must be UTF-8. Values are kept as sent: `"0012"` stays a string and whitespace is not trimmed.
 */
export async function parseFlatXml(input: string | Buffer, root = 'xml'): Promise<Record<string, string>> {
    let text: string;
    try {
        text = typeof input === 'string' ? input : utf8.decode(input);
    }
    catch {
        throw new XmlFormatError('the body is not UTF-8');
    }

    if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
        throw new XmlFormatError('DTD and entity declarations are not accepted');
    }

    if (forbiddenChars.test(text)) {
        throw new XmlFormatError('the body holds characters XML forbids');
    }

    return new FlatXmlScanner(text.startsWith('\uFEFF') ? text.slice(1) : text).document(root);
}
