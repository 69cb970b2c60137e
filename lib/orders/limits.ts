import { Sequelize, Transaction } from 'sequelize';

import type { OrderStatus } from '../../models';
import { changeRows, placeholders, selectRows } from '../sql';

/** How much one user may hold in unpaid orders (their stock is held until they are paid or closed). */
export interface OrderLimits {
    openOrdersPerUser: number;
    openUnitsPerUser: number;
}

/** The statuses in which an order holds stock for its buyer and counts against the buyer's limits. */
// A closing order still holds its stock until WeChat's close window lets it go.
const openStatuses: readonly OrderStatus[] = ['unpaid', 'closing'];

/**
 * Takes the buyer's row lock for the rest of the order's transaction. It must be the transaction's first
 * statement: then the count in withinOpenLimits, which comes after it, sees every order a concurrent transaction of
 * the same buyer committed before this one got the lock (PostgreSQL's READ COMMITTED reads afresh per statement;
 * MariaDB's REPEATABLE READ takes its snapshot at the first plain read, which comes after the lock; SQLite has one
 * writer at a time). A write, not a SELECT ... FOR UPDATE: under a stricter isolation level the second transaction
 * then fails with a serialization error instead of counting from an old snapshot.
 */
export async function lockBuyer(sequelize: Sequelize, userId: number, transaction: Transaction): Promise<void> {
    await changeRows(sequelize, 'UPDATE users SET updated_at = updated_at WHERE id = $1', [userId], transaction);
}

/**
 * Whether a new order of `units` units keeps the buyer within the limits, counting the buyer's open orders. Only
 * after lockBuyer, in the same transaction: two concurrent orders then cannot both slip past a limit. Counting
 * at order time (rather than keeping counters) leaves the payment and close paths untouched.
 */
export async function withinOpenLimits(sequelize: Sequelize, userId: number, units: number, limits: OrderLimits, transaction: Transaction): Promise<boolean> {
    const [held] = await selectRows<{ orders: number | string; units: number | string | null }>(sequelize,
        `SELECT COUNT(*) AS orders, SUM(units) AS units FROM orders WHERE user_id = $1 AND status IN (${placeholders(2, openStatuses.length)})`,
        [userId, ...openStatuses], transaction);
    return Number(held.orders) < limits.openOrdersPerUser && Number(held.units ?? 0) + units <= limits.openUnitsPerUser;
}
