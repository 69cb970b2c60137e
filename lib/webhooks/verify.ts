/**
 * For Node receivers of wxshop's webhooks: checks the `Wxshop-Signature` header against the raw body (the bytes
 * received, before any JSON parsing) with the endpoint's secret(s).
 *
 *     const result = verifyWebhook(rawBody, req.headers['wxshop-signature'], [process.env.WXSHOP_WEBHOOK_SECRET]);
 *     if (!result.valid) return res.writeHead(400).end(result.reason);
 *
 * Give both secrets while rotating. Dedupe on the event's `id`: a delivery can arrive more than once.
 */
import * as Crypto from 'crypto';

import { signatureOf } from './signature';

export type WebhookVerification = { valid: true; timestamp: number } | { valid: false; reason: string };

export function verifyWebhook(
    rawBody: string | Buffer,
    header: string | string[] | undefined,
    secrets: readonly string[],
    toleranceSeconds = 300,
    nowMs = Date.now()
): WebhookVerification {
    if (typeof header !== 'string' || header === '') {
        return { valid: false, reason: 'no Wxshop-Signature header' };
    }

    let timestamp: number | undefined;
    const signatures: string[] = [];
    for (const part of header.split(',')) {
        const [key, value] = part.trim().split('=', 2);
        if (key === 't' && /^\d{1,12}$/.test(value ?? '')) {
            timestamp = Number(value);
        }
        else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value ?? '')) {
            signatures.push(value);
        }
    }

    if (timestamp === undefined || !signatures.length) {
        return { valid: false, reason: 'the header needs t=<unix seconds> and at least one v1=<hex>' };
    }

    if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) {
        return { valid: false, reason: `the timestamp is more than ${toleranceSeconds} s away from now` };
    }

    for (const secret of secrets) {
        const expected = Buffer.from(signatureOf(secret, timestamp, rawBody), 'hex');
        if (signatures.some((signature) => Crypto.timingSafeEqual(expected, Buffer.from(signature, 'hex')))) {
            return { valid: true, timestamp };
        }
    }

    return { valid: false, reason: 'no signature matches a secret' };
}
