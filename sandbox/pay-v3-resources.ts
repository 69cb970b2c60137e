import { formatRfc3339Beijing } from '../lib/wechatpay/v3/time';

import type { V3Refund, V3Trade } from './pay-v3-trades';

/** The simulator's trades and refunds as API v3's `Transaction` and `Refund` JSON (reference §3.7, §3.10). */

const stateDescriptions: Record<string, string> = {
    NOTPAY: '订单未支付',
    SUCCESS: '支付成功',
    REFUND: '转入退款',
    CLOSED: '订单已关闭'
};

const rfc3339 = (ms: number) => formatRfc3339Beijing(new Date(ms));

export function transactionResource(trade: V3Trade): Record<string, unknown> {
    const paid = trade.paidAt !== undefined;
    return {
        appid: trade.appid,
        mchid: trade.mchid,
        out_trade_no: trade.outTradeNo,
        ...paid && { transaction_id: trade.transactionId },
        trade_type: trade.tradeType,
        trade_state: trade.state,
        trade_state_desc: stateDescriptions[trade.state],
        ...paid && { bank_type: 'OTHERS', success_time: rfc3339(trade.paidAt!), payer: { openid: trade.payer } },
        attach: trade.attach ?? '',
        amount: { total: trade.total, currency: 'CNY', ...paid && { payer_total: trade.total, payer_currency: 'CNY' } }
    };
}

export function refundResource(refund: V3Refund): Record<string, unknown> {
    const { trade } = refund;
    return {
        refund_id: refund.refundId,
        out_refund_no: refund.outRefundNo,
        transaction_id: trade.transactionId,
        out_trade_no: trade.outTradeNo,
        channel: 'ORIGINAL',
        user_received_account: '支付用户零钱',
        ...refund.successAt !== undefined && { success_time: rfc3339(refund.successAt) },
        create_time: rfc3339(refund.createdAt),
        status: refund.status,
        funds_account: 'AVAILABLE',
        amount: {
            total: trade.total,
            refund: refund.amount,
            from: [],
            payer_total: trade.total,
            payer_refund: refund.amount,
            settlement_refund: refund.amount,
            settlement_total: trade.total,
            discount_refund: 0,
            currency: 'CNY'
        }
    };
}

/** A refund notification's resource: `refund_status`, not `status`, and fewer fields. */
export function refundNotifyResource(refund: V3Refund): Record<string, unknown> {
    const { refund_id, out_refund_no, transaction_id, out_trade_no, success_time, status, user_received_account } = refundResource(refund);
    const { trade } = refund;
    return {
        mchid: trade.mchid,
        out_trade_no,
        transaction_id,
        out_refund_no,
        refund_id,
        refund_status: status,
        success_time,
        user_received_account,
        amount: { total: trade.total, refund: refund.amount, payer_total: trade.total, payer_refund: refund.amount }
    };
}
