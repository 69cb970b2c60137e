import { Sequelize, Transaction, UniqueConstraintError } from 'sequelize';

import { Order, Payment } from '../../models';
import type { Clock } from '../clock';
import type { PaymentAnomalyKind } from '../../models/payment-anomaly';
import { recordAnomaly } from '../payments/anomalies';
import { isPayableTotal } from '../wechatpay/amount';
import type { PaidTrade, PayV2Client, QueryResult } from '../wechatpay/client';
import type { PayApiVersion } from '../../config/pay-v3';
import type { OrderPay, PayV3Setup } from './gateway';
import { parseBeijingCompact } from '../wechatpay/time';
import { insertRows, sqlDate } from '../sql';
import { recordWebhookEvent } from '../webhooks/outbox';
import { markPaid, payableStatuses, transition } from './status';

export type PaymentOutcome =
    | 'applied'             // unpaid → paid
    | 'duplicate'           // this transaction was applied before: nothing changes
    | 'refund_required'     // money arrived for an order that can no longer take it (closed): recorded and flagged
    | 'refunded_at_wechat'  // WeChat reports the trade paid and (partly) refunded already (trade_state REFUND): recorded, order refunding
    | 'rejected';           // does not match our order: nothing believed

export interface PaymentResult {
    outcome: PaymentOutcome;
    reason?: string;
    /** The order it was for, when that was looked up (not on the usual path, which needs no lookup). */
    orderId?: number;
    /** A rejected payment that WeChat vouches for but that matches no order of ours: kept in payment_anomalies. */
    anomaly?: { kind: PaymentAnomalyKind; orderTotalFee?: number };
}

export interface Merchant {
    appId: string;
    mchId: string;
}

/** What believing WeChat takes: the database, the Pay client and who we are at WeChat. */
export interface PaymentContext {
    sequelize: Sequelize;
    pay: PayV2Client;
    /** The v3 side, when the merchant has v3 material; which version new payments use (lib/orders/gateway.ts). */
    v3?: PayV3Setup;
    payApiVersion?: PayApiVersion;
    merchant: Merchant;
    /** The backend's clock; in sandbox mode the simulator's, so moving one moves both. */
    clock: Clock;
}

/**
 * Asks WeChat where an order stands (orderquery) and, when it reports a payment, applies it exactly as a
 * notification would be. Resolves to WeChat's trade state and, if there was one, what the payment did.
 */
export async function applyQueriedPayment(context: PaymentContext, outTradeNo: string, pay: Pick<OrderPay, 'orderQuery'> = context.pay): Promise<{ state: QueryResult['state']; payment?: PaymentResult }> {
    const result = await pay.orderQuery(outTradeNo);
    if (result.state === 'SUCCESS') {
        return { state: result.state, payment: await applyPayment(context.sequelize, context.merchant, result.trade, 'query') };
    }

    if (result.state === 'REFUND') {
        return { state: result.state, payment: await keepAnomaly(await applyRefundedTrade(context.sequelize, context.merchant, result.trade), result.trade, 'query') };
    }

    return { state: result.state };
}

/**
 * The one place a payment is believed, whether WeChat told us (notify) or we asked (orderquery). The caller has
 * verified the signature; this checks the facts against our order, records the payment (transaction_id is
 * unique) and makes the conditional `unpaid → paid` change, all in one transaction. A payment of ours (our appid
 * and mch_id) that matches no order is kept as a payment anomaly before this resolves.
 */
export async function applyPayment(sequelize: Sequelize, merchant: Merchant, trade: PaidTrade, source: 'notify' | 'query'): Promise<PaymentResult> {
    const rejection = checkTrade(merchant, trade);
    if (rejection) {
        return { outcome: 'rejected', reason: rejection };
    }

    return keepAnomaly(await matchPayment(sequelize, trade, source), trade, source);
}

/** A payment WeChat vouches for that matches no order of ours is kept where a person can list it. */
async function keepAnomaly(result: PaymentResult, trade: PaidTrade, source: 'notify' | 'query'): Promise<PaymentResult> {
    if (result.anomaly) {
        await recordAnomaly({ kind: result.anomaly.kind, source, trade, reason: result.reason!, orderId: result.orderId, orderTotalFee: result.anomaly.orderTotalFee });
    }

    return result;
}

async function matchPayment(sequelize: Sequelize, trade: PaidTrade, source: 'notify' | 'query'): Promise<PaymentResult> {
    const paid = { ...trade, paidAt: parseBeijingCompact(trade.timeEnd)!, source };
    try {
        return await sequelize.transaction(async (transaction) => {
            // The usual case in two statements: the unpaid order of this out_trade_no and total_fee becomes paid, and
            // the payment is recorded. The insert meets the unique transaction_id only if that payment paid another
            // order, which rolls everything back (see below).
            if (await markPaid(sequelize, paid, transaction)) {
                await recordPayment(sequelize, paid, 'applied', transaction);
                return { outcome: 'applied' };
            }

            // Not unpaid any more: this payment was applied before, or it came for an order closed meanwhile (or,
            // never seen, a second payment of a paid order). Money received is recorded and flagged, never dropped.
            const { order, known } = await lookUp(trade, transaction);
            if (known) {
                return known;
            }

            await recordPayment(sequelize, paid, 'refund_required', transaction);
            await Order.update({ refundRequired: true }, { where: { id: order!.id }, transaction });
            await recordWebhookEvent(sequelize, { id: order!.id }, 'order.refund_required', transaction);
            return { outcome: 'refund_required', orderId: order!.id };
        });
    }
    catch (err) {
        if (err instanceof UniqueConstraintError) {
            // Recorded by a concurrent delivery of the same notification, or this transaction_id paid another order.
            const recorded = await Payment.findOne({ where: { transactionId: trade.transactionId } });
            const order = await Order.findOne({ where: { outTradeNo: trade.outTradeNo }, attributes: ['id'] });
            if (recorded && order) {
                return classifyRecorded(recorded, order.id);
            }
        }

        throw err;
    }
}

/**
 * A trade WeChat reports as paid and then refunded (trade_state REFUND), found by orderquery: the payment is
 * recorded (`refunded_at_wechat`) and an order not yet paid here becomes `refunding`, never a plain paid order.
 * The refunds to come settle it; until then a person sees it in the payments and in the order's status.
 */
async function applyRefundedTrade(sequelize: Sequelize, merchant: Merchant, trade: PaidTrade): Promise<PaymentResult> {
    const rejection = checkTrade(merchant, trade);
    if (rejection) {
        return { outcome: 'rejected', reason: rejection };
    }

    const paid = { ...trade, paidAt: parseBeijingCompact(trade.timeEnd)!, source: 'query' as const };
    return sequelize.transaction(async (transaction) => {
        const { order, known } = await lookUp(trade, transaction);
        if (known) {
            return known;
        }

        if (payableStatuses.includes(order!.status)) {
            await transition(order!.id, order!.status, 'refunding', {
                transactionId: trade.transactionId, paidAt: paid.paidAt, payerOpenid: trade.openid ?? null, claimedUntil: null, nextReconcileAt: null
            }, transaction);
        }

        await recordPayment(sequelize, paid, 'refunded_at_wechat', transaction);
        return { outcome: 'refunded_at_wechat', orderId: order!.id };
    });
}

/**
 * The order of a trade and, when the trade is no news, what it is: not ours (rejected), or recorded before
 * (duplicate, or rejected when that transaction_id paid another order).
 */
async function lookUp(trade: PaidTrade, transaction: Transaction): Promise<{ order: Order | null; known?: PaymentResult }> {
    const order = await Order.findOne({ where: { outTradeNo: trade.outTradeNo }, attributes: ['id', 'totalFee', 'status'], transaction });
    const mismatch = orderMismatch(trade, order);
    if (mismatch) {
        return { order, known: mismatch };
    }

    const recorded = await Payment.findOne({ where: { transactionId: trade.transactionId }, transaction });
    return { order, known: recorded ? classifyRecorded(recorded, order!.id) : undefined };
}

/** Why a payment that changed nothing does not belong to an order of ours at all. */
function orderMismatch(trade: PaidTrade, order: Pick<Order, 'id' | 'totalFee'> | null): PaymentResult | undefined {
    if (!order) {
        return { outcome: 'rejected', reason: `no order has out_trade_no ${trade.outTradeNo}`, anomaly: { kind: 'unknown_order' } };
    }

    if (order.totalFee !== trade.totalFee) {
        return {
            outcome: 'rejected',
            reason: `total_fee ${trade.totalFee} differs from the order's ${order.totalFee}`,
            orderId: order.id,
            anomaly: { kind: 'amount_mismatch', orderTotalFee: order.totalFee }
        };
    }

    return undefined;
}

function classifyRecorded(recorded: Payment, orderId: number): PaymentResult {
    return recorded.orderId === orderId
        ? { outcome: 'duplicate', orderId }
        : { outcome: 'rejected', reason: `transaction_id ${recorded.transactionId} already paid order ${recorded.orderId}`, orderId, anomaly: { kind: 'transaction_reused' } };
}

/** Records a payment against the order of its out_trade_no (raw SQL: it runs on every notification). */
async function recordPayment(sequelize: Sequelize, paid: PaidTrade & { paidAt: Date; source: Payment['source'] }, outcome: Payment['outcome'], transaction: Transaction) {
    await insertRows(sequelize,
        'INSERT INTO payments (order_id, transaction_id, total_fee, payer_openid, paid_at, source, outcome, raw, created_at) ' +
        'VALUES ((SELECT id FROM orders WHERE out_trade_no = $1), $2, $3, $4, $5, $6, $7, $8, $9)',
        [paid.outTradeNo, paid.transactionId, paid.totalFee, paid.openid ?? null, sqlDate(sequelize, paid.paidAt), paid.source, outcome,
            JSON.stringify(paid.raw), sqlDate(sequelize, new Date())],
        transaction);
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

    if (!isPayableTotal(trade.totalFee)) {
        return 'total_fee is not a positive 32-bit integer number of fen';
    }

    if (!parseBeijingCompact(trade.timeEnd ?? '')) {
        return `time_end "${trade.timeEnd}" is not yyyyMMddHHmmss`;
    }

    return undefined;
}
