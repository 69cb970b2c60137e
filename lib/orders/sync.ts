import { Op } from 'sequelize';

import { Order } from '../../models';
import { closeClosedAtWechat } from './close';
import { payFor } from './gateway';
import { applyQueriedPayment, PaymentContext, PaymentResult } from './payments';

/** Seconds until the next orderquery of an unpaid order with a prepay, by how many times it was asked already. */
const backoffSeconds = [10, 20, 30, 60, 120, 300, 600];

export function nextReconcileDelayMs(attempts: number): number {
    return backoffSeconds[Math.min(attempts, backoffSeconds.length - 1)] * 1000;
}

/**
 * Asks WeChat (orderquery) where an order stands and applies what it says: a payment exactly as a notification
 * would be applied, a close made at WeChat as a local close.
 */
export async function syncWithWechat(context: PaymentContext, order: Order): Promise<PaymentResult | undefined> {
    const { state, payment } = await applyQueriedPayment(context, order.outTradeNo, payFor(context, order));
    if (state === 'CLOSED') {
        await closeClosedAtWechat(context, order);
    }

    return payment;
}

/**
 * Takes the right to query this order now: at most one query every `intervalMs` per order, across instances. The
 * order as read decides first, so a refused request writes nothing.
 */
export async function claimQuery(order: Pick<Order, 'id' | 'queriedAt'>, intervalMs: number, now: Date): Promise<boolean> {
    const since = new Date(now.getTime() - intervalMs);
    if (order.queriedAt && order.queriedAt > since) {
        return false;
    }

    const [affected] = await Order.update({ queriedAt: now }, {
        where: { id: order.id, [Op.or]: [{ queriedAt: null }, { queriedAt: { [Op.lte]: since } }] }
    });
    return affected === 1;
}
