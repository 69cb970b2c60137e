import { Op, WhereOptions } from 'sequelize';

import { Order } from '../../models';

/** How long a claim on an order lasts; a claim not released (a crash) lapses by itself after that. */
export const claimLeaseMs = 60_000;

/**
 * Claims an order for a background job for a minute with one conditional UPDATE: of several instances looking
 * at the same row, exactly one gets it. A claim that is not released (a crash) lapses by itself.
 */
async function claimOrder(orderId: number, now: Date, stillDue: WhereOptions<Order> = {}): Promise<boolean> {
    const [affected] = await Order.update({ claimedUntil: new Date(now.getTime() + claimLeaseMs) }, {
        where: { [Op.and]: [stillDue, { id: orderId }, unclaimed(now)] }
    });
    return affected === 1;
}

function unclaimed(now: Date): WhereOptions<Order> {
    return { [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] };
}

/**
 * Up to `batch` orders matching `where`, oldest `dueField` first, each claimed by this caller. The claim repeats
 * `where`, so a row paid or closed since it was listed (which also clears its claim) is not taken, and the claimed
 * rows are read again: the job acts on what they are now, not on what they were when listed.
 */
export async function claimDueOrders(where: WhereOptions<Order>, dueField: 'expiresAt' | 'nextReconcileAt' | 'sentToWechatAt', now: Date, batch: number): Promise<Order[]> {
    const due = await Order.findAll({
        where: { [Op.and]: [where, unclaimed(now)] },
        attributes: ['id'],
        order: [[dueField, 'ASC']],
        limit: batch
    });

    const claimed: number[] = [];
    for (const { id } of due) {
        if (await claimOrder(id, now, where)) {
            claimed.push(id);
        }
    }

    return claimed.length ? Order.findAll({ where: { id: claimed }, order: [[dueField, 'ASC']] }) : [];
}
