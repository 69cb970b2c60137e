import * as Crypto from 'crypto';

export const signatureHeader = 'Wxshop-Signature';

/** hex HMAC-SHA256(secret, "<t>.<raw body>") */
export function signatureOf(secret: string, timestamp: number, rawBody: string | Buffer): string {
    return Crypto.createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>]`: one v1 per secret valid now (two while a rotation overlaps). */
export function signatureHeaderValue(secrets: readonly string[], timestamp: number, rawBody: string | Buffer): string {
    return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${signatureOf(secret, timestamp, rawBody)}`)].join(',');
}
