/**
 * The value rules of subscribe-message keywords by type, the prefix of the keyword name (reference §4): `fitValue`
 * cuts a value to its type's limit (the backend, before sending), `valueProblem` says why WeChat would refuse one
 * (the simulator's 47003). Characters are counted as Unicode code points (how WeChat counts is not documented).
 */

const chinese = /\p{Script=Han}/u;

interface Rule {
    max: number;
    /** Characters that may appear; anything else is dropped by fitValue and refused by valueProblem. */
    allowed?: RegExp;
}

const rules: Record<string, Rule> = {
    thing: { max: 20 },
    number: { max: 32, allowed: /[0-9.]/ },
    letter: { max: 32, allowed: /[A-Za-z]/ },
    symbol: { max: 5, allowed: /[^\p{L}\p{N}\s]/u },
    character_string: { max: 32, allowed: /[\x21-\x7e]/ },
    phone_number: { max: 17, allowed: /[0-9+\-]/ },
    car_number: { max: 8 },
    phrase: { max: 5, allowed: chinese },
    time: { max: 64 },
    date: { max: 64 },
    amount: { max: 16 }
};

export function keywordType(keyword: string): string {
    return keyword.replace(/\d+$/, '');
}

function chars(value: string): string[] {
    return [...value];
}

function limitOf(type: string, value: string): number | undefined {
    // name: ≤ 10 when any character is Chinese, else ≤ 20 letters and symbols.
    return type === 'name' ? (chinese.test(value) ? 10 : 20) : rules[type]?.max;
}

/** The value cut (and stripped of characters its type does not allow) to fit its keyword's type. */
export function fitValue(keyword: string, value: string): string {
    const type = keywordType(keyword);
    const allowed = rules[type]?.allowed;
    const kept = allowed ? chars(value).filter((char) => allowed.test(char)) : chars(value.trim());
    const max = limitOf(type, kept.join(''));
    return (max === undefined ? kept : kept.slice(0, max)).join('');
}

/** Why WeChat refuses this value for its keyword (undefined: accepted). */
export function valueProblem(keyword: string, value: unknown): string | undefined {
    const type = keywordType(keyword);
    if (typeof value !== 'string' || !value.trim()) {
        return `data.${keyword}.value is empty`;
    }

    if (type === 'enum') {
        return undefined;
    }

    const max = limitOf(type, value);
    if (max === undefined) {
        return `data.${keyword} has an unknown type`;
    }

    const list = chars(value);
    const allowed = rules[type]?.allowed;
    if (list.length > max || (allowed && !list.every((char) => allowed.test(char))) || (type === 'character_string' && chinese.test(value))) {
        return `data.${keyword}.value invalid`;
    }

    if (type === 'amount' && !/^[^\d\s]?\d{1,10}(\.\d{1,2})?元?$/u.test(value)) {
        return `data.${keyword}.value invalid`;
    }

    if ((type === 'date' || type === 'time') && !/\d/.test(value)) {
        return `data.${keyword}.value invalid`;
    }

    return undefined;
}
