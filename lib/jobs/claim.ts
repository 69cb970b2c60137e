import { Op, WhereOptions } from 'sequelize';

import { Order } from '../../models';

const leaseMs = 60_000;

/**
 * Claims an order for a background job for a minute with one conditional UPDATE: of several instances looking
 * at the same row, exactly one gets it. A claim that is not released (a crash) lapses by itself.
 */
export async function claimOrder(orderId: number, now: Date): Promise<boolean> {
    const [affected] = await Order.update({ claimedUntil: new Date(now.getTime() + leaseMs) }, {
        where: { id: orderId, [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] }
    });
    return affected === 1;
}

/** Up to `batch` orders matching `where`, oldest `dueField` first, each claimed by this caller. */
export async function claimDueOrders(where: WhereOptions<Order>, dueField: 'expiresAt' | 'nextReconcileAt', now: Date, batch: number): Promise<Order[]> {
    const due = await Order.findAll({
        where: { [Op.and]: [where, { [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] }] },
        order: [[dueField, 'ASC']],
        limit: batch
    });

    const claimed: Order[] = [];
    for (const order of due) {
        if (await claimOrder(order.id, now)) {
            claimed.push(order);
        }
    }

    return claimed;
}
