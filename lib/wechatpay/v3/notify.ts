import type { PaidTrade } from '../client';
import { decryptResource, EncryptedResource } from './aead';
import { Json, paidTradeV3, RefundResult, refundResultV3 } from './resources';
import type { Headers, V3Verifier } from './verifier';

/** Pay and refund notifications of API v3 (reference §3.9, §3.10): verify the raw body, then decrypt `resource`. */

export type V3Notification =
    | { kind: 'payment'; id: string; trade: PaidTrade }
    | { kind: 'refund'; id: string; eventType: 'REFUND.SUCCESS' | 'REFUND.ABNORMAL' | 'REFUND.CLOSED'; refund: RefundResult };

export class NotificationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'NotificationError';
    }
}

const refundEvents = new Set(['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED']);

/**
 * Believes nothing before the signature over the raw bytes verifies. Throws NotificationError for anything forged,
 * stale, a signature probe, undecryptable or of an event we do not handle; the caller then replies `failureReply`.
 */
export async function decodeNotification(headers: Headers, rawBody: Buffer | string, verifier: V3Verifier, apiV3Key: string): Promise<V3Notification> {
    const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
    try {
        await verifier.verify(headers, body);
    }
    catch (err) {
        throw new NotificationError(`not verified: ${(err as Error).message}`);
    }

    let envelope: Json;
    let resource: Json;
    try {
        envelope = JSON.parse(body) as Json;
        resource = JSON.parse(decryptResource(envelope.resource as EncryptedResource, apiV3Key)) as Json;
    }
    catch (err) {
        throw new NotificationError(`malformed or undecryptable: ${(err as Error).message}`);
    }

    const id = typeof envelope.id === 'string' ? envelope.id : '';
    const eventType = String(envelope.event_type);
    if (eventType === 'TRANSACTION.SUCCESS' && resource.trade_state === 'SUCCESS') {
        return { kind: 'payment', id, trade: paidTradeV3(resource) };
    }

    if (refundEvents.has(eventType)) {
        return { kind: 'refund', id, eventType: eventType as 'REFUND.SUCCESS', refund: refundResultV3(resource) };
    }

    throw new NotificationError(`unexpected event_type ${eventType}`);
}

/** Received: 204, no body (WeChat reads only the status; a 200 with FAIL would count as success). */
export const successReply = { status: 204 } as const;

/** Not received: a 4xx/5xx with `{code: "FAIL", message}`, so WeChat retries. */
export function failureReply(message: string, status = 400): { status: number; body: { code: 'FAIL'; message: string } } {
    return { status, body: { code: 'FAIL', message } };
}
