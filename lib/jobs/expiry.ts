import { Op } from 'sequelize';

import { requestClose } from '../orders/close';
import type { PaymentContext } from '../orders/payments';
import { claimDueOrders } from './claim';

/**
 * Closes unpaid orders past their expiry: at once when they never reached WeChat, otherwise through `closing`
 * (closed at WeChat first), releasing their stock. Returns how many it closed.
 */
export async function expireOrders(context: PaymentContext, now = new Date(context.clock.now()), batch = 50, log: (message: string) => void = () => {}): Promise<number> {
    const due = await claimDueOrders({ status: 'unpaid', expiresAt: { [Op.lte]: now } }, 'expiresAt', now, batch);
    let closed = 0;
    for (const order of due) {
        try {
            const outcome = await requestClose(context, order, now);
            closed += outcome === 'closed' ? 1 : 0;
        }
        catch (err) {
            // The order is `closing` (or still unpaid): the closing job or a later run tries again.
            log(`expiry of order ${order.id} failed, will retry: ${(err as Error).message}`);
        }
    }

    return closed;
}
