import * as Crypto from 'crypto';

export type SignType = 'MD5' | 'HMAC-SHA256';

export type Params = Record<string, string | number | undefined>;

/**
 * The API v2 string to sign (reference §2.2): every non-empty field but `sign`, sorted by name in ASCII order,
 * joined as k=v& with raw values, then `&key=<API key>`. `sign_type` takes part when present.
 */
function stringToSign(params: Params, key: string): string {
    const names = Object.keys(params).filter((name) => name !== 'sign' && params[name] !== undefined && params[name] !== '').sort();
    return `${names.map((name) => `${name}=${params[name]}`).join('&')}&key=${key}`;
}

export function signV2(params: Params, key: string, signType: SignType = 'MD5'): string {
    const message = stringToSign(params, key);
    const hash = signType === 'MD5' ? Crypto.createHash('md5') : Crypto.createHmac('sha256', key);
    return hash.update(message, 'utf8').digest('hex').toUpperCase();
}

/**
 * Checks `sign` over every field received. The algorithm comes from `sign_type` when present, otherwise from the
 * signature's length (32 hex = MD5, 64 = HMAC-SHA256): notifications often omit sign_type (reference §2.7).
 */
export function verifyV2(params: Params, key: string): boolean {
    const received = params.sign;
    if (typeof received !== 'string') {
        return false;
    }

    const signType = params.sign_type ?? (received.length === 64 ? 'HMAC-SHA256' : 'MD5');
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
        return false;
    }

    const expected = Buffer.from(signV2(params, key, signType));
    const actual = Buffer.from(received.toUpperCase());
    return expected.length === actual.length && Crypto.timingSafeEqual(expected, actual);
}
