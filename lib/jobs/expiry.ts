import { Op } from 'sequelize';

import { closeOrder } from '../orders/close';
import type { PaymentContext } from '../orders/payments';
import { claimDueOrders } from './claim';

/** Closes unpaid orders past their expiry, at WeChat and here, releasing their stock. Returns how many it closed. */
export async function expireOrders(context: PaymentContext, now = new Date(), batch = 50, log: (message: string) => void = () => {}): Promise<number> {
    const due = await claimDueOrders({ status: 'unpaid', expiresAt: { [Op.lte]: now } }, 'expiresAt', now, batch);
    let closed = 0;
    for (const order of due) {
        try {
            const outcome = await closeOrder(context, order);
            closed += outcome === 'closed' ? 1 : 0;
        }
        catch (err) {
            // The claim lapses and a later run tries again.
            log(`expiry of order ${order.id} failed, will retry: ${(err as Error).message}`);
        }
    }

    return closed;
}
