/**
 * The baselines each scenario is divided by: a bare hapi route (the HTTP ceiling of this machine), and the
 * scenario's own SQL run straight on the driver with one transaction in flight per connection (the database ceiling).
 */
import { newOutTradeNo } from '../lib/orders/create';
import type { BenchApp } from './app';
import type { RawConnection, RawDriver } from './driver';
import type { GoodsRow, UnpaidOrder } from './fixtures';
import { http, Measurement, raw } from './load';

export function bareRoute(app: BenchApp, options: { connections: number; duration: number; method?: 'GET' | 'POST'; body?: string }): Promise<Measurement> {
    return http({
        label: `bare hapi ${options.method ?? 'GET'} /bare`,
        url: `${app.bare}/bare`,
        connections: options.connections,
        duration: options.duration,
        method: options.method,
        body: options.body,
        expectStatus: 200,
        serverPid: app.pid,
        verifyBody: (body) => body === '{"ok":true}'
    });
}

/**
 * What POST /orders does to the database, by hand: inside one transaction the guarded stock update (checking the
 * affected rows), the order and its line.
 */
export function orderTransaction(driver: RawDriver, userId: number, ttlSeconds: number) {
    const insertOrder = driver.insertReturningId('INSERT INTO orders (user_id, out_trade_no, status, total_fee, expires_at, refund_required, reconcile_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    return async (connection: RawConnection, goods: GoodsRow): Promise<void> => {
        const now = new Date();
        const taken = await connection.query('UPDATE goods SET stock = stock - 1, updated_at = ? WHERE id = ? AND stock >= 1', [driver.date(now), goods.id]);
        if (taken.affected !== 1) {
            throw new Error(`goods ${goods.id}: out of stock`);
        }

        const order = await connection.query(insertOrder, [
            userId, newOutTradeNo(now), 'unpaid', goods.price, driver.date(new Date(now.getTime() + ttlSeconds * 1000)),
            driver.bool(false), 0, driver.date(now), driver.date(now)
        ]);
        if (!order.insertId) {
            throw new Error('the order INSERT reported no id');
        }

        await connection.query('INSERT INTO order_items (order_id, goods_id, name, price, count) VALUES (?, ?, ?, ?, ?)', [order.insertId, goods.id, goods.name, goods.price, 1]);
    };
}

export interface PaidNotification {
    order: UnpaidOrder;
    fields: Record<string, string>;
}

/**
 * What the notify endpoint does to the database, by hand: the conditional unpaid → paid update by out_trade_no
 * (it must change exactly one row) and the payment record, in one transaction.
 */
export function notifyTransaction(driver: RawDriver) {
    return async (connection: RawConnection, { order, fields }: PaidNotification): Promise<void> => {
        const now = new Date();
        const paidAt = driver.date(new Date(now.getTime() - 1000));
        const paid = await connection.query(
            "UPDATE orders SET status = 'paid', transaction_id = ?, paid_at = ?, payer_openid = ?, claimed_until = NULL, next_reconcile_at = NULL, updated_at = ? " +
            "WHERE out_trade_no = ? AND status = 'unpaid'",
            [fields.transaction_id, paidAt, fields.openid, driver.date(now), order.outTradeNo]
        );
        if (paid.affected !== 1) {
            throw new Error(`order ${order.outTradeNo} was not unpaid`);
        }

        await connection.query(
            'INSERT INTO payments (order_id, transaction_id, total_fee, payer_openid, paid_at, source, outcome, raw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [order.id, fields.transaction_id, order.totalFee, fields.openid, paidAt, 'notify', 'applied', JSON.stringify(fields), driver.date(now)]
        );
    };
}

export function rawOrders(driver: RawDriver, options: { connections: number; duration: number; userId: number; goods: GoodsRow[]; ttlSeconds: number }): Promise<Measurement> {
    return raw({
        label: `${driver.dialect} driver: stock UPDATE + 2 INSERTs`,
        driver,
        connections: options.connections,
        duration: options.duration,
        next: () => options.goods[Math.floor(Math.random() * options.goods.length)],
        transaction: orderTransaction(driver, options.userId, options.ttlSeconds)
    });
}

export function rawNotify(driver: RawDriver, options: { connections: number; duration: number; next: () => PaidNotification | undefined }): Promise<Measurement> {
    return raw({
        label: `${driver.dialect} driver: paid UPDATE + payment INSERT`,
        driver,
        connections: options.connections,
        duration: options.duration,
        next: options.next,
        transaction: notifyTransaction(driver)
    });
}

/**
 * What GET /merchant/orders?status=paid asks the database, by hand: the page of orders, their count, and the lines
 * of the page (it must find 20 orders). The driver runs them in a transaction as its other baselines do.
 */
export function merchantOrdersQueries(driver: RawDriver, options: { connections: number; duration: number }): Promise<Measurement> {
    return raw({
        label: `${driver.dialect} driver: orders page + count + lines`,
        driver,
        connections: options.connections,
        duration: options.duration,
        next: () => 'paid',
        transaction: async (connection, status) => {
            const page = await connection.query('SELECT * FROM orders WHERE status = ? ORDER BY id DESC LIMIT 20 OFFSET 0', [status]);
            await connection.query('SELECT COUNT(*) AS count FROM orders WHERE status = ?', [status]);
            if (page.rows.length !== 20) {
                throw new Error(`the page had ${page.rows.length} orders`);
            }

            const ids = page.rows.map((row) => row.id);
            await connection.query(`SELECT * FROM order_items WHERE order_id IN (${ids.map(() => '?').join(', ')})`, ids);
        }
    });
}
