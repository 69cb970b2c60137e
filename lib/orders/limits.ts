import { Sequelize, Transaction } from 'sequelize';

import type { OrderStatus } from '../../models';
import { changeRows } from '../sql';
import { orderColumn, OrderRef } from './events';

/** How much one user may hold in unpaid orders (their stock is held until they are paid or closed). */
export interface OrderLimits {
    openOrdersPerUser: number;
    openUnitsPerUser: number;
}

/** The statuses in which an order holds stock for its buyer and counts against the buyer's limits. */
const openStatuses: readonly OrderStatus[] = ['unpaid'];

export function isOpen(status: OrderStatus): boolean {
    return openStatuses.includes(status);
}

/**
 * Counts a new order of `units` units against its user's open orders and units, or resolves to false when that
 * would pass a limit. One guarded UPDATE of the user's row inside the order's transaction: on PostgreSQL and
 * MariaDB a second order of the same user waits for the first one's row lock and then re-checks the guard
 * against the committed counters; SQLite runs one writer at a time. So two concurrent orders cannot both slip
 * past a limit, which a count of the user's unpaid orders (read under a snapshot) could not promise.
 */
export async function reserveOpenOrder(sequelize: Sequelize, userId: number, units: number, limits: OrderLimits, transaction: Transaction): Promise<boolean> {
    const changed = await changeRows(sequelize,
        'UPDATE users SET open_orders = open_orders + 1, open_units = open_units + $1 WHERE id = $2 AND open_orders < $3 AND open_units + $1 <= $4',
        [units, userId, limits.openOrdersPerUser, limits.openUnitsPerUser], transaction);
    return changed === 1;
}

/**
 * Gives an order's count and units back to its user when it stops being open (paid or closed), in the
 * transaction of that status change. It reads only the order's own row, which the change has locked already.
 * Never below zero: a counter that drifted must not go negative and so allow more than the limit.
 */
export async function releaseOpenOrder(sequelize: Sequelize, order: OrderRef, transaction: Transaction): Promise<void> {
    const units = orderColumn(order, 'units').sql;
    const user = orderColumn(order, 'user_id');
    await changeRows(sequelize,
        'UPDATE users SET open_orders = CASE WHEN open_orders > 0 THEN open_orders - 1 ELSE 0 END, ' +
        `open_units = CASE WHEN open_units > ${units} THEN open_units - ${units} ELSE 0 END WHERE id = ${user.sql}`,
        [user.value], transaction);
}
