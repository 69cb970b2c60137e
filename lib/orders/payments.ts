import { Sequelize, UniqueConstraintError } from 'sequelize';

import { Order, Payment } from '../../models';
import type { PaidTrade } from '../wechatpay/client';
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
    try {
        return await sequelize.transaction(async (transaction) => {
            const order = await Order.findOne({ where: { outTradeNo: trade.outTradeNo }, transaction });
            if (!order) {
                return { outcome: 'rejected', reason: `no order has out_trade_no ${trade.outTradeNo}` };
            }

            if (order.totalFee !== trade.totalFee) {
                return { outcome: 'rejected', reason: `total_fee ${trade.totalFee} differs from the order's ${order.totalFee}`, order };
            }

            const recorded = await Payment.findOne({ where: { transactionId: trade.transactionId }, transaction });
            if (recorded) {
                return recorded.orderId === order.id
                    ? { outcome: 'duplicate', order }
                    : { outcome: 'rejected', reason: `transaction_id ${trade.transactionId} already paid order ${recorded.orderId}`, order };
            }

            const paid = await transition(order.id, 'unpaid', 'paid', {
                transactionId: trade.transactionId,
                paidAt,
                payerOpenid: trade.openid ?? null,
                claimedUntil: null,
                nextReconcileAt: null
            }, transaction);
            const outcome: PaymentOutcome = paid ? 'applied' : 'refund_required';
            await Payment.create({
                orderId: order.id,
                transactionId: trade.transactionId,
                totalFee: trade.totalFee,
                payerOpenid: trade.openid ?? null,
                paidAt,
                source,
                outcome,
                raw: JSON.stringify(trade.raw)
            }, { transaction });

            if (!paid) {
                // Closed (by cancel or expiry) before the money came, or a second payment of a paid order.
                await Order.update({ refundRequired: true }, { where: { id: order.id }, transaction });
            }

            await order.reload({ transaction });
            return { outcome, order };
        });
    }
    catch (err) {
        if (err instanceof UniqueConstraintError) {
            // The same notification, delivered concurrently, was recorded by another request first.
            const recorded = await Payment.findOne({ where: { transactionId: trade.transactionId } });
            if (recorded) {
                return { outcome: 'duplicate', order: (await Order.findByPk(recorded.orderId))! };
            }
        }

        throw err;
    }
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
