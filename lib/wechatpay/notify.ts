import type { PaymentOutcome } from '../orders/payments';
import type { PaidTrade } from './client';

/**
 * What a payment notification protocol decides, apart from HTTP: v2's XML (notify-v2.ts) and, later, v3's signed
 * JSON each turn the raw request into one of these, and the route only moves bytes, logs and applies the payment.
 */

/** The answer WeChat gets: its status code, content type and body. */
export interface NotifyReply {
    statusCode: number;
    contentType: string;
    body: string;
}

export type NotifyDecision =
    /** Not believed (malformed, unsigned, forged): nothing may change; `reply` tells WeChat it failed. */
    | { verdict: 'refused'; reason: string; outTradeNo?: string; reply: NotifyReply }
    /** Genuine, but it reports no payment (a FAIL result): nothing to apply; `reply` acknowledges it. */
    | { verdict: 'no-payment'; note: string; outTradeNo?: string; reply: NotifyReply }
    /** Genuine and it reports a payment: apply `trade`, then answer with the protocol's `replyTo(outcome)`. */
    | { verdict: 'paid'; trade: PaidTrade };

/** Request headers as Node gives them (lower-case names): v2 needs none, v3 reads its Wechatpay-* signature headers. */
export type NotifyHeaders = Record<string, unknown>;

export interface NotifyProtocol {
    /** From the raw body bytes (a signature covers them exactly) and the headers to what the notification means. */
    decide(raw: Buffer, headers: NotifyHeaders): Promise<NotifyDecision>;
    /** The answer once the payment was applied: a rejected one (it does not match our order) is a failure. */
    replyTo(outcome: PaymentOutcome): NotifyReply;
}
