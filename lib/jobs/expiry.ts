import { Op } from 'sequelize';

import { Order } from '../../models';
import { closeOrder } from '../orders/close';
import type { SyncContext } from '../orders/sync';
import { claimOrder } from './claim';

const leaseMs = 60_000;

/** Closes unpaid orders past their expiry, at WeChat and here, releasing their stock. Returns how many it closed. */
export async function expireOrders(context: SyncContext, now = new Date(), batch = 50, log: (message: string) => void = () => {}): Promise<number> {
    const due = await Order.findAll({
        where: { status: 'unpaid', expiresAt: { [Op.lte]: now }, [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] },
        order: [['expiresAt', 'ASC']],
        limit: batch
    });

    let closed = 0;
    for (const order of due) {
        if (!await claimOrder(order.id, now, leaseMs)) {
            continue;
        }

        try {
            const outcome = await closeOrder(context.sequelize, context.pay, context.merchant, order);
            closed += outcome === 'closed' ? 1 : 0;
        }
        catch (err) {
            // The claim lapses and a later run tries again.
            log(`expiry of order ${order.id} failed, will retry: ${(err as Error).message}`);
        }
    }

    return closed;
}
