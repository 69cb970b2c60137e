import * as Crypto from 'crypto';

export type SignType = 'MD5' | 'HMAC-SHA256';

export type Params = Record<string, string | number | undefined>;

/**
 * The API v2 string to sign (reference §2.2): every non-empty field but `sign`, sorted by name in ASCII order,
 * joined as k=v& with raw values, then `&key=<API key>`. `sign_type` takes part when present and not empty.
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
 * What a message's `sign_type` says, for the backend and the simulator alike: `absent` when the element is not
 * there, `invalid` for a value that is neither algorithm.
 *
 * An empty `<sign_type/>` is an empty field like any other, so it is not signed (it drops out of the string to
 * sign). WeChat does not document what it means for the algorithm; we take the stricter reading: it names the
 * documented default, MD5, and only MD5. It is not "absent": the signature's length never chooses the algorithm
 * of a message that carries a sign_type element, even an empty one.
 */
export function declaredSignType(params: Params): SignType | 'absent' | 'invalid' {
    const value = params.sign_type;
    if (value === undefined) {
        return 'absent';
    }

    if (value === '') {
        return 'MD5';
    }

    return value === 'MD5' || value === 'HMAC-SHA256' ? value : 'invalid';
}

/** `sign` is exactly the upper-case hex signature of the fields with this algorithm (compared in constant time). */
export function signatureMatches(params: Params, key: string, signType: SignType): boolean {
    const received = params.sign;
    if (typeof received !== 'string') {
        return false;
    }

    const expected = Buffer.from(signV2(params, key, signType));
    const actual = Buffer.from(received);
    return expected.length === actual.length && Crypto.timingSafeEqual(expected, actual);
}

/**
 * Checks `sign` over every field received (answers and notifications from WeChat). The algorithm comes from
 * `sign_type` when the element is there, otherwise from the signature's length (32 hex = MD5, 64 = HMAC-SHA256):
 * notifications often omit sign_type (reference §2.7).
 */
export function verifyV2(params: Params, key: string): boolean {
    const declared = declaredSignType(params);
    if (declared === 'invalid') {
        return false;
    }

    const signType = declared !== 'absent' ? declared : String(params.sign).length === 64 ? 'HMAC-SHA256' : 'MD5';
    return signatureMatches(params, key, signType);
}
