import { Op } from 'sequelize';

import { Order } from '../../models';
import { closeLocally } from './close';
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
    const { state, payment } = await applyQueriedPayment(context, order.outTradeNo);
    if (state === 'CLOSED') {
        await closeLocally(context.sequelize, order.id);
    }

    return payment;
}

/** Takes the right to query this order now: at most one query every `intervalMs` per order, across instances. */
export async function claimQuery(orderId: number, intervalMs: number): Promise<boolean> {
    const now = new Date();
    const [affected] = await Order.update({ queriedAt: now }, {
        where: {
            id: orderId,
            [Op.or]: [{ queriedAt: null }, { queriedAt: { [Op.lte]: new Date(now.getTime() - intervalMs) } }]
        }
    });
    return affected === 1;
}
