import { literal, Op } from 'sequelize';

import { Goods, Order, OrderItem, Refund } from '../../models';
import { transition } from '../orders/status';
import { recordWebhookEvent } from '../webhooks/outbox';
import type { WechatRefundStatus } from '../wechatpay/refund';
import type { RefundContext } from './context';

export type RefundEnd = 'succeeded' | 'failed' | 'closed';

/** WeChat's final words and what they make of a refund: CHANGE is abnormal (card frozen...) and needs a person. */
export const endOf: Record<Exclude<WechatRefundStatus, 'PROCESSING'>, RefundEnd> = {
    SUCCESS: 'succeeded',
    CHANGE: 'failed',
    REFUNDCLOSE: 'closed'
};

/**
 * Ends a processing refund, once (a conditional UPDATE from `processing`): a success adds its amount to the
 * order's refunded_fee and gives the stock back if it says restock; a failure or close releases its reservation.
 * When the order has no refund left in flight it becomes `refunded` (all of it refunded) or `paid` again. Resolves
 * to whether this call made the change (false: it was ended before, e.g. by a duplicate notification).
 */
export async function settleRefund(context: RefundContext, refundId: number, end: RefundEnd, details: { wechatStatus: string; refundId?: string; failure?: string }): Promise<boolean> {
    const now = new Date(context.clock.now());
    const settled = await context.sequelize.transaction(async (transaction) => {
        const [changed] = await Refund.update({
            status: end,
            wechatStatus: details.wechatStatus,
            failure: details.failure ?? null,
            finishedAt: now,
            claimedUntil: null,
            nextAttemptAt: null,
            ...(details.refundId ? { refundId: details.refundId } : {})
        }, { where: { id: refundId, status: 'processing' }, transaction });
        if (!changed) {
            return false;
        }

        const refund = (await Refund.findByPk(refundId, { transaction }))!;
        // The event's object is the order as it stands (with its refunds), like every order event.
        await recordWebhookEvent(context.sequelize, { id: refund.orderId }, end === 'succeeded' ? 'refund.succeeded' : 'refund.failed', transaction);
        const money = end === 'succeeded'
            ? { refundedFee: literal(`refunded_fee + ${refund.amount}`) }
            : { refundReservedFee: literal(`refund_reserved_fee - ${refund.amount}`) };
        await Order.update(money as any, { where: { id: refund.orderId }, transaction });
        if (end === 'succeeded' && refund.restock) {
            await restock(refund.orderId, now, transaction);
        }

        const order = (await Order.findByPk(refund.orderId, { transaction }))!;
        const inFlight = await Refund.count({ where: { orderId: order.id, status: 'processing' }, transaction });
        if (order.status === 'refunding' && inFlight === 0) {
            await transition(order.id, 'refunding', order.refundedFee === order.totalFee ? 'refunded' : 'paid', {}, transaction);
        }

        if (order.status === 'closed' && order.refundRequired && order.refundedFee === order.totalFee) {
            // The late payment is back with the payer: nothing is left to refund.
            await Order.update({ refundRequired: false }, { where: { id: order.id }, transaction });
        }

        return true;
    });
    if (settled && end !== 'succeeded') {
        context.log(`refund ${refundId} ended ${end} (${details.wechatStatus}${details.failure ? `: ${details.failure}` : ''}): its amount is refundable again; a person should look`);
    }

    return settled;
}

/** The order's lines back into stock, once per order (a guarded UPDATE on restocked_at). */
async function restock(orderId: number, now: Date, transaction: any): Promise<void> {
    const [first] = await Order.update({ restockedAt: now }, { where: { id: orderId, restockedAt: { [Op.is]: null } }, transaction });
    if (!first) {
        return;
    }

    const items = await OrderItem.findAll({ where: { orderId }, order: [['goodsId', 'ASC']], transaction });
    for (const item of items) {
        await Goods.update({ stock: literal(`stock + ${item.count}`) as any }, { where: { id: item.goodsId }, transaction });
    }
}
