import * as Crypto from 'crypto';

/** API v3 signatures (reference §3.2, §3.3, §3.6): RSA-SHA256 (PKCS#1 v1.5) over lines that each end in `\n`. */

export const authorizationScheme = 'WECHATPAY2-SHA256-RSA2048';

/** WeChat sends a few deliberately wrong signatures starting with this to check that merchants verify (§3.3). */
export const signTestPrefix = 'WECHATPAY/SIGNTEST/';

function lines(...pieces: string[]): string {
    return pieces.map((piece) => `${piece}\n`).join('');
}

/** What a merchant signs for a request: method, path with query, timestamp, nonce, body (empty for GET). */
export function requestMessage(method: string, url: string, timestamp: string, nonce: string, body: string): string {
    return lines(method.toUpperCase(), url, timestamp, nonce, body);
}

/** What WeChat signs for an answer or a notification, over the raw body bytes (empty for a 204). */
export function responseMessage(timestamp: string, nonce: string, body: string): string {
    return lines(timestamp, nonce, body);
}

/** What wx.requestPayment's paySign covers; signType is not part of it. */
export function payMessage(appId: string, timeStamp: string, nonceStr: string, pkg: string): string {
    return lines(appId, timeStamp, nonceStr, pkg);
}

export function rsaSign(message: string, privateKey: Crypto.KeyObject): string {
    return Crypto.sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

export function rsaVerify(message: string, signature: string, publicKey: Crypto.KeyObject): boolean {
    try {
        return Crypto.verify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
    }
    catch {
        return false;
    }
}

export interface AuthorizationFields {
    mchid: string;
    nonce_str: string;
    timestamp: string;
    serial_no: string;
    signature: string;
}

export function authorizationHeader(fields: AuthorizationFields): string {
    const pairs = (['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature'] as const).map((name) => `${name}="${fields[name]}"`);
    return `${authorizationScheme} ${pairs.join(',')}`;
}

/** The five pairs of an Authorization header, in any order; undefined when it is not exactly that. */
export function parseAuthorization(header: string | undefined): AuthorizationFields | undefined {
    const prefix = `${authorizationScheme} `;
    if (!header?.startsWith(prefix)) {
        return undefined;
    }

    const fields: Record<string, string> = {};
    for (const pair of header.slice(prefix.length).split(',')) {
        const match = /^\s*([a-z_]+)="([^"]*)"\s*$/.exec(pair);
        if (!match || match[1] in fields) {
            return undefined;
        }

        fields[match[1]] = match[2];
    }

    const names = ['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature'];
    if (Object.keys(fields).length !== names.length || !names.every((name) => fields[name])) {
        return undefined;
    }

    return fields as unknown as AuthorizationFields;
}
