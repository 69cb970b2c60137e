import type { PaymentOutcome } from '../orders/payments';
import type { NotifyDecision, NotifyProtocol, NotifyReply } from './notify';
import { decodeNotification, failureReply, NotificationError, successReply, V3Notification } from './v3/notify';
import type { Headers, V3Verifier } from './v3/verifier';

/**
 * The API v3 pay notification (reference §3.9) behind the same seam as v2: believed only when the signature over
 * the raw body verifies, then `resource` is decrypted with the APIv3 key. Received is 204; anything else a 4xx
 * with `{code: "FAIL", message}` so that WeChat sends it again (never 200 with FAIL).
 */
export function notifyV3(verifier: V3Verifier, apiV3Key: string): NotifyProtocol {
    return {
        async decide(raw, headers): Promise<NotifyDecision> {
            const decoded = await decodeV3(raw, headers, verifier, apiV3Key);
            if ('failure' in decoded) {
                return { verdict: 'refused', reason: decoded.failure, reply: v3Failure(decoded.failure) };
            }

            if (decoded.kind !== 'payment') {
                return { verdict: 'refused', reason: `a ${decoded.eventType} notification at the pay notify URL`, reply: v3Failure('not a payment notification') };
            }

            return { verdict: 'paid', trade: decoded.trade };
        },
        replyTo: (outcome: PaymentOutcome) => outcome === 'rejected' ? v3Failure('notification does not match the order') : v3Received
    };
}

/** A verified and decrypted v3 notification, or why it is not believed. */
export async function decodeV3(raw: Buffer, headers: Headers, verifier: V3Verifier, apiV3Key: string): Promise<V3Notification | { failure: string }> {
    try {
        return await decodeNotification(headers, raw, verifier, apiV3Key);
    }
    catch (err) {
        if (err instanceof NotificationError) {
            return { failure: err.message };
        }

        throw err;
    }
}

export const v3Received: NotifyReply = { statusCode: successReply.status, contentType: 'application/json', body: '' };

export function v3Failure(message: string): NotifyReply {
    const reply = failureReply(message);
    return { statusCode: reply.status, contentType: 'application/json', body: JSON.stringify(reply.body) };
}
