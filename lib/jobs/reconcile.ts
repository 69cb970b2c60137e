import { Op } from 'sequelize';

import { Order } from '../../models';
import type { PaymentContext } from '../orders/payments';
import { nextReconcileDelayMs, syncWithWechat } from '../orders/sync';
import { claimDueOrders } from './claim';

/**
 * Notifications get lost: asks WeChat about unpaid orders that have a prepay, on a backoff schedule until they
 * expire, and applies a payment exactly as a notification would. Returns how many payments it applied.
 */
export async function reconcilePayments(context: PaymentContext, now = new Date(), batch = 50, log: (message: string) => void = () => {}): Promise<number> {
    const due = await claimDueOrders({ status: 'unpaid', prepayId: { [Op.ne]: null }, nextReconcileAt: { [Op.lte]: now } }, 'nextReconcileAt', now, batch);
    let applied = 0;
    for (const order of due) {
        try {
            const result = await syncWithWechat(context, order);
            applied += result?.outcome === 'applied' ? 1 : 0;
            if (result?.outcome === 'rejected') {
                log(`orderquery of order ${order.id} returned a payment we cannot accept: ${result.reason}`);
            }
        }
        catch (err) {
            log(`orderquery of order ${order.id} failed, will retry: ${(err as Error).message}`);
        }

        // Still unpaid: schedule the next look (a paid or closed order no longer matches the query above).
        await Order.update({
            nextReconcileAt: new Date(now.getTime() + nextReconcileDelayMs(order.reconcileAttempts + 1)),
            reconcileAttempts: order.reconcileAttempts + 1,
            claimedUntil: null
        }, { where: { id: order.id, status: 'unpaid' } });
    }

    return applied;
}
