/**
 * POST /orders (one line, count 1, a random one of 20 goods with a huge stock; one user per connection, in turn) against the
 * same SQL on the bare driver. Target: ≥ 60% of the driver. Afterwards the orders made and the stock taken must
 * both equal the 201s.
 */
import { Op } from 'sequelize';

import { Order } from '../../models';
import { rawOrders } from '../baselines';
import { benchOpenids, createCatalogue, createUser, loginUsers, settledCount, stockOf } from '../fixtures';
import { http, Measurement } from '../load';
import { BenchContext, checkWarmup, ScenarioResult } from './types';

const ttlSeconds = 900;

export async function ordersScenario(context: BenchContext): Promise<ScenarioResult> {
    const { app, options, driver } = context;
    // One buyer per connection: a buyer's orders take that buyer's row lock (the open-order limits), as real buyers do.
    context.log(`orders: creating goods and logging ${options.connections} users in`);
    const { goods } = await createCatalogue(20, 1_000_000_000);
    const { goods: rawGoods } = await createCatalogue(20, 1_000_000_000);
    const users = await loginUsers(app, benchOpenids(options.connections, 'Or'));
    const rawUserId = await createUser(benchOpenids(1, 'Ra')[0]);
    const goodsIds = goods.map((row) => row.id);
    const userIds = users.map((user) => user.userId);

    let turn = 0;
    const place = (duration: number) => http({
        label: 'app POST /orders',
        url: `${app.base}/orders`,
        connections: options.connections,
        duration,
        method: 'POST',
        next: () => ({
            method: 'POST',
            path: '/orders',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${users[turn++ % users.length].token}` },
            body: JSON.stringify({ goodsList: [{ goodsId: goodsIds[Math.floor(Math.random() * goodsIds.length)], count: 1 }] })
        }),
        expectStatus: 201,
        serverPid: app.pid,
        verifyBody: (body) => body.startsWith('{"id":')
    });
    const direct = (duration: number) => rawOrders(driver, { connections: options.connections, duration, userId: rawUserId, goods: rawGoods, ttlSeconds });

    if (options.warmup) {
        context.log('orders: warming up');
        checkWarmup(context, 'orders (driver)', await direct(options.warmup));
        checkWarmup(context, 'orders', await place(options.warmup));
    }

    context.log('orders: measuring the driver, then the app');
    const baseline = await direct(options.duration);

    const countOrders = () => Order.count({ where: { userId: { [Op.in]: userIds } } });
    const ordersBefore = await settledCount(countOrders);
    const stockBefore = await stockOf(goodsIds);
    const measured = await app.profiled('orders', () => place(options.duration));
    const ordersMade = await settledCount(countOrders) - ordersBefore;
    const notes = [`1 line per order, 20 goods, ${options.connections} users rotated`];
    notes.push(check(measured, ordersMade, stockBefore - await stockOf(goodsIds), options.connections));

    return { name: 'orders', app: measured, baseline, target: 0.6, notes };
}

/**
 * Every 201 is an order written with its stock taken. A request in flight when autocannon's clock ran out is
 * abandoned by the client but still completed by the app, so up to `connections` more orders than 201s is expected.
 */
function check(measured: Measurement, ordersMade: number, stockTaken: number, connections: number): string {
    const created = measured.statusCodes[201] ?? 0;
    if (stockTaken !== ordersMade || ordersMade < created || ordersMade > created + connections) {
        measured.problems.push(`${created} orders answered 201 but ${ordersMade} were written and ${stockTaken} units of stock taken`);
    }

    return `checked: ${ordersMade} orders written = stock taken; ${created} answered 201 (+${ordersMade - created} abandoned in flight at the end)`;
}
