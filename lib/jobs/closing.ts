import { Op } from 'sequelize';

import { closeWindowMs, finishClose } from '../orders/close';
import type { PaymentContext } from '../orders/payments';
import { claimDueOrders } from './claim';

/**
 * Finishes the closes that had to wait: `closing` orders whose WeChat close window has passed are closed at WeChat,
 * then here (stock released), or become paid if WeChat says so. Returns how many it closed.
 */
export async function finishClosings(context: PaymentContext, now = new Date(context.clock.now()), batch = 50, log: (message: string) => void = () => {}): Promise<number> {
    const windowPassed = new Date(now.getTime() - closeWindowMs);
    const due = await claimDueOrders({ status: 'closing', [Op.or]: [{ sentToWechatAt: null }, { sentToWechatAt: { [Op.lte]: windowPassed } }] }, 'sentToWechatAt', now, batch);
    let closed = 0;
    for (const order of due) {
        try {
            closed += await finishClose(context, order, now) === 'closed' ? 1 : 0;
        }
        catch (err) {
            log(`closing of order ${order.id} at WeChat failed, will retry: ${(err as Error).message}`);
        }
    }

    return closed;
}
