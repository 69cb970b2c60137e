import { Sequelize, Transaction, UniqueConstraintError } from 'sequelize';

import { Order, Payment } from '../../models';
import type { PaidTrade, PayV2Client, QueryResult } from '../wechatpay/client';
import { parseBeijingCompact } from '../wechatpay/time';
import { transition } from './status';

export type PaymentOutcome =
    | 'applied'             // unpaid → paid
    | 'duplicate'           // this transaction was applied before: nothing changes
    | 'refund_required'     // money arrived for an order that can no longer take it (closed): recorded and flagged
    | 'rejected';           // does not match our order: nothing believed

export interface PaymentResult {
    outcome: PaymentOutcome;
    reason?: string;
    order?: Order;
}

export interface Merchant {
    appId: string;
    mchId: string;
}

/** What believing WeChat takes: the database, the Pay client and who we are at WeChat. */
export interface PaymentContext {
    sequelize: Sequelize;
    pay: PayV2Client;
    merchant: Merchant;
}

/**
 * Asks WeChat where an order stands (orderquery) and, when it reports a payment, applies it exactly as a
 * notification would be. Resolves to WeChat's trade state and, if there was one, what the payment did.
 */
export async function applyQueriedPayment(context: PaymentContext, outTradeNo: string): Promise<{ state: QueryResult['state']; payment?: PaymentResult }> {
    const result = await context.pay.orderQuery(outTradeNo);
    if (result.state === 'SUCCESS' || result.state === 'REFUND') {
        return { state: result.state, payment: await applyPayment(context.sequelize, context.merchant, result.trade, 'query') };
    }

    return { state: result.state };
}

/**
 * The one place a payment is believed, whether WeChat told us (notify) or we asked (orderquery). The caller has
 * verified the signature; this checks the facts against our order, records the payment (transaction_id is
 * unique) and makes the conditional `unpaid → paid` change, all in one transaction.
 */
export async function applyPayment(sequelize: Sequelize, merchant: Merchant, trade: PaidTrade, source: 'notify' | 'query'): Promise<PaymentResult> {
    const rejection = checkTrade(merchant, trade);
    if (rejection) {
        return { outcome: 'rejected', reason: rejection };
    }

    const paidAt = parseBeijingCompact(trade.timeEnd)!;
    // Read before the transaction: out_trade_no and total_fee never change, and the status is checked by the
    // conditional update inside it. A short write transaction is what lets notifications go through quickly.
    const order = await Order.findOne({ where: { outTradeNo: trade.outTradeNo } });
    if (!order) {
        return { outcome: 'rejected', reason: `no order has out_trade_no ${trade.outTradeNo}` };
    }

    if (order.totalFee !== trade.totalFee) {
        return { outcome: 'rejected', reason: `total_fee ${trade.totalFee} differs from the order's ${order.totalFee}`, order };
    }

    try {
        return await sequelize.transaction(async (transaction) => {
            // The usual case first: an unpaid order becomes paid. The payments insert then meets the unique
            // transaction_id only if that payment paid another order, which rolls everything back (see below).
            const changes = { transactionId: trade.transactionId, paidAt, payerOpenid: trade.openid ?? null, claimedUntil: null, nextReconcileAt: null };
            if (await transition(order.id, 'unpaid', 'paid', changes, transaction)) {
                await recordPayment(order, trade, paidAt, source, 'applied', transaction);
                order.set({ ...changes, status: 'paid' });
                return { outcome: 'applied', order };
            }

            // Not unpaid any more: this payment was applied before, or it came for an order closed meanwhile (or,
            // never seen, a second payment of a paid order). Money received is recorded and flagged, never dropped.
            const recorded = await Payment.findOne({ where: { transactionId: trade.transactionId }, transaction });
            if (recorded) {
                return classifyRecorded(recorded, order);
            }

            await recordPayment(order, trade, paidAt, source, 'refund_required', transaction);
            await Order.update({ refundRequired: true }, { where: { id: order.id }, transaction });
            await order.reload({ transaction });
            return { outcome: 'refund_required', order };
        });
    }
    catch (err) {
        if (err instanceof UniqueConstraintError) {
            // Recorded by a concurrent delivery of the same notification, or this transaction_id paid another order.
            const recorded = await Payment.findOne({ where: { transactionId: trade.transactionId } });
            if (recorded) {
                return classifyRecorded(recorded, order);
            }
        }

        throw err;
    }
}

function classifyRecorded(recorded: Payment, order: Order): PaymentResult {
    return recorded.orderId === order.id
        ? { outcome: 'duplicate', order }
        : { outcome: 'rejected', reason: `transaction_id ${recorded.transactionId} already paid order ${recorded.orderId}`, order };
}

function recordPayment(order: Order, trade: PaidTrade, paidAt: Date, source: 'notify' | 'query', outcome: Payment['outcome'], transaction: Transaction) {
    return Payment.create({
        orderId: order.id,
        transactionId: trade.transactionId,
        totalFee: trade.totalFee,
        payerOpenid: trade.openid ?? null,
        paidAt,
        source,
        outcome,
        raw: JSON.stringify(trade.raw)
    }, { transaction });
}

function checkTrade(merchant: Merchant, trade: PaidTrade): string | undefined {
    if (trade.appId !== merchant.appId) {
        return `appid ${trade.appId} is not ours`;
    }

    if (trade.mchId !== merchant.mchId) {
        return `mch_id ${trade.mchId} is not ours`;
    }

    if (!trade.outTradeNo || !trade.transactionId) {
        return 'out_trade_no or transaction_id is missing';
    }

    if (!Number.isSafeInteger(trade.totalFee) || trade.totalFee <= 0) {
        return 'total_fee is not a positive integer number of fen';
    }

    if (!parseBeijingCompact(trade.timeEnd ?? '')) {
        return `time_end "${trade.timeEnd}" is not yyyyMMddHHmmss`;
    }

    return undefined;
}
