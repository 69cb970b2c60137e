import { Parser } from 'xml2js';

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

/**
 * Parses one flat level of elements under `root` into a map of strings. Anything else (a DTD or entity
 * declaration, nesting, repeated or reserved names, a different root) is refused: the protocol never sends it,
 * and refusing it closes the doors that hostile XML knocks on.
 */
export async function parseFlatXml(input: string | Buffer, root = 'xml'): Promise<Record<string, string>> {
    const text = typeof input === 'string' ? input : input.toString('utf8');
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
        throw new XmlFormatError('DTD and entity declarations are not accepted');
    }

    let document: any;
    try {
        document = await new Parser({ explicitArray: true, explicitRoot: true, strict: true, trim: false, async: false }).parseStringPromise(text);
    }
    catch (err) {
        throw new XmlFormatError(`not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
    }

    if (!document || typeof document !== 'object' || Object.keys(document).length !== 1 || !Object.hasOwn(document, root)) {
        throw new XmlFormatError(`the root element must be <${root}>`);
    }

    const element = document[root];
    if (typeof element !== 'object' || element === null) {
        return Object.create(null);
    }

    const fields: Record<string, string> = Object.create(null);
    for (const name of Object.keys(element)) {
        if (name === '$') {
            throw new XmlFormatError('attributes are not accepted');
        }

        if (forbiddenNames.has(name)) {
            throw new XmlFormatError(`element <${name}> is not accepted`);
        }

        const values = element[name];
        if (!Array.isArray(values) || values.length !== 1) {
            throw new XmlFormatError(`element <${name}> appears more than once`);
        }

        const [value] = values;
        if (typeof value !== 'string') {
            if (value && typeof value === 'object' && Object.keys(value).length === 0) {
                fields[name] = '';          // <empty/>
                continue;
            }

            throw new XmlFormatError(`element <${name}> must hold text only`);
        }

        fields[name] = value;
    }

    return fields;
}
