import { Op } from 'sequelize';

import { Order } from '../../models';

/**
 * Claims an order for a background job for `leaseMs` with one conditional UPDATE: of several instances looking
 * at the same row, exactly one gets it. A claim that is not released (a crash) lapses by itself.
 */
export async function claimOrder(orderId: number, now: Date, leaseMs: number): Promise<boolean> {
    const [affected] = await Order.update({ claimedUntil: new Date(now.getTime() + leaseMs) }, {
        where: { id: orderId, [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] }
    });
    return affected === 1;
}
