import type { PaidTrade, QueryResult, TradeState } from '../client';
import { formatBeijingCompact } from '../time';
import { parseRfc3339 } from './time';

/** The v3 `Transaction` and `Refund` resources (reference §3.7, §3.10) in the shapes the order code already takes. */

export type Json = Record<string, unknown>;

export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

export interface RefundResult {
    outRefundNo: string;
    refundId: string;
    outTradeNo: string;
    transactionId: string;
    status: RefundStatus;
    /** Fen refunded by this refund, and the order's total. */
    refund: number;
    total: number;
    successTime?: Date;
    raw: Record<string, string>;
}

const refundStatuses = new Set<RefundStatus>(['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL']);

function text(value: unknown): string | undefined {
    return typeof value === 'string' ? value : undefined;
}

function fen(value: unknown): number {
    return Number.isSafeInteger(value) && (value as number) >= 0 ? value as number : NaN;
}

function object(value: unknown): Json {
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Json : {};
}

/** Top-level fields as strings (objects as JSON), for the `raw` column that keeps what WeChat said. */
function flatten(resource: Json): Record<string, string> {
    return Object.fromEntries(Object.entries(resource).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]));
}

/** A v3 transaction as the PaidTrade applyPayment takes; time_end becomes v2's Beijing yyyyMMddHHmmss. */
export function paidTradeV3(transaction: Json): PaidTrade {
    const successTime = parseRfc3339(text(transaction.success_time) ?? '');
    return {
        appId: text(transaction.appid) ?? '',
        mchId: text(transaction.mchid) ?? '',
        outTradeNo: text(transaction.out_trade_no) ?? '',
        transactionId: text(transaction.transaction_id) ?? '',
        totalFee: fen(object(transaction.amount).total),
        openid: text(object(transaction.payer).openid),
        timeEnd: successTime ? formatBeijingCompact(successTime) : '',
        raw: flatten(transaction)
    };
}

export function queryResultV3(transaction: Json): QueryResult {
    const state = transaction.trade_state as TradeState;
    if (state === 'SUCCESS' || state === 'REFUND') {
        return { state, trade: paidTradeV3(transaction) };
    }

    return { state };
}

/** The API's `Refund` (field `status`) or a refund notification's resource (field `refund_status`). */
export function refundResultV3(refund: Json): RefundResult {
    const status = (text(refund.status) ?? text(refund.refund_status)) as RefundStatus;
    const amount = object(refund.amount);
    const successTime = text(refund.success_time);
    return {
        outRefundNo: text(refund.out_refund_no) ?? '',
        refundId: text(refund.refund_id) ?? '',
        outTradeNo: text(refund.out_trade_no) ?? '',
        transactionId: text(refund.transaction_id) ?? '',
        status: refundStatuses.has(status) ? status : 'ABNORMAL',
        refund: fen(amount.refund),
        total: fen(amount.total),
        successTime: successTime ? parseRfc3339(successTime) : undefined,
        raw: flatten(refund)
    };
}
