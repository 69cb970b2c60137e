import { Op } from 'sequelize';

import { Order } from '../../models';
import { lateQueryDelayMs } from '../orders/close';
import type { PaymentContext } from '../orders/payments';
import { nextReconcileDelayMs, syncWithWechat } from '../orders/sync';
import { claimDueOrders } from './claim';

/**
 * Notifications get lost: asks WeChat about unpaid (and closing) orders that have a prepay, on a backoff schedule
 * until they expire, and about closed orders that were sent to WeChat for a while after their close (a lagging close
 * or a late payment is recorded as `refund_required`). Applies a payment exactly as a notification would. Returns
 * how many payments it applied.
 */
export async function reconcilePayments(context: PaymentContext, now = new Date(context.clock.now()), batch = 50, log: (message: string) => void = () => {}): Promise<number> {
    const due = await claimDueOrders({
        [Op.or]: [{ status: ['unpaid', 'closing'], prepayId: { [Op.ne]: null } }, { status: 'closed' }],
        nextReconcileAt: { [Op.lte]: now }
    }, 'nextReconcileAt', now, batch);
    let applied = 0;
    for (const order of due) {
        try {
            const result = await syncWithWechat(context, order);
            applied += result?.outcome === 'applied' ? 1 : 0;
            if (result?.outcome === 'rejected') {
                log(`orderquery of order ${order.id} returned a payment we cannot accept: ${result.reason}`);
            }

            if (result?.outcome === 'refund_required') {
                log(`order ${order.id} was paid at WeChat after it was closed here: recorded, the merchant must refund it`);
            }
        }
        catch (err) {
            log(`orderquery of order ${order.id} failed, will retry: ${(err as Error).message}`);
        }

        // Still waiting: schedule the next look (a paid order no longer matches the query above).
        const attempts = order.reconcileAttempts + 1;
        const delay = order.status === 'closed' ? lateQueryDelayMs(attempts) : nextReconcileDelayMs(attempts);
        await Order.update({
            nextReconcileAt: delay === undefined ? null : new Date(now.getTime() + delay),
            reconcileAttempts: attempts,
            claimedUntil: null
        }, { where: { id: order.id, status: order.status } });
    }

    return applied;
}
