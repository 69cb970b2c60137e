import { Op, Transaction, WhereOptions } from 'sequelize';

import { Order, OrderStatus } from '../../models';

/** Every status change an order can make. Anything else is refused. */
const transitions: Record<OrderStatus, readonly OrderStatus[]> = {
    unpaid: ['paid', 'closed'],
    paid: ['refunding'],
    closed: [],
    refunding: ['refunded', 'paid'],
    refunded: []
};

function canTransition(from: OrderStatus, to: OrderStatus): boolean {
    return transitions[from].includes(to);
}

/**
 * Moves an order from one status to another as one conditional UPDATE (`WHERE status = :from`), so of two
 * racing writers exactly one wins. Resolves to whether this caller made the change.
 */
export async function transition(
    orderId: number,
    from: OrderStatus,
    to: OrderStatus,
    changes: Partial<Order['_creationAttributes']>,
    transaction?: Transaction,
    extraWhere: WhereOptions<Order> = {}
): Promise<boolean> {
    if (!canTransition(from, to)) {
        throw new Error(`order ${orderId}: ${from} → ${to} is not a valid transition`);
    }

    const [affected] = await Order.update({ ...changes, status: to }, {
        where: { [Op.and]: [{ id: orderId, status: from }, extraWhere] },
        transaction
    });
    return affected === 1;
}
