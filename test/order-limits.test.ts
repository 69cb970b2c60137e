import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import { QueryTypes } from 'sequelize';

import { ConfigError, loadConfig } from '../config';
import { createSequelize, migrator } from '../lib/db';
import { expireOrders } from '../lib/jobs/expiry';
import { Goods, Order } from '../models';
import { newTransactionId, notifyPaid } from './signed-notify';
import { createShop, freshDatabaseUrl, json, login, startApp, TestApp, testEnv } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('the order units migration', () => {

    it('fills the units of the orders already there', async () => {
        const sequelize = createSequelize(await freshDatabaseUrl());
        try {
            await migrator(sequelize).up({ to: '20261122000003-create-orders.js' });
            const queryInterface = sequelize.getQueryInterface();
            const now = new Date();
            await queryInterface.bulkInsert('users', [{ id: 1, openid: 'o-1', created_at: now, updated_at: now }]);
            await queryInterface.bulkInsert('shops', [{ id: 1, name: 's', description: '', created_at: now, updated_at: now }]);
            await queryInterface.bulkInsert('goods', [{ id: 1, shop_id: 1, name: 'g', price: 10, stock: 100, created_at: now, updated_at: now }]);
            const orders = [[2, 3], [4], []];
            await queryInterface.bulkInsert('orders', orders.map((_, index) => ({
                id: index + 1, user_id: 1, out_trade_no: `T${index}`, status: 'unpaid', total_fee: 10, expires_at: now, created_at: now, updated_at: now
            })));
            await queryInterface.bulkInsert('order_items', orders.flatMap((counts, index) =>
                counts.map((count) => ({ order_id: index + 1, goods_id: 1, name: 'g', price: 10, count }))));

            await migrator(sequelize).up();
            const units = await sequelize.query('SELECT units FROM orders ORDER BY id', { type: QueryTypes.SELECT });
            expect(units.map((row: any) => Number(row.units))).to.equal([5, 4, 0]);
        }
        finally {
            await sequelize.close();
        }
    });
});

describe('order creation limits', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp({ MAX_OPEN_ORDERS_PER_USER: '3', MAX_OPEN_UNITS_PER_USER: '10' });
    });
    after(() => app.stop());

    const order = (user: { auth: { authorization: string } }, goodsList: Array<{ goodsId: number; count: number }>) =>
        json(app.server, { method: 'POST', url: '/orders', headers: user.auth, payload: { goodsList } });
    const stockOf = async (goodsId: number) => (await Goods.findByPk(goodsId))!.stock;

    describe('what one order may ask', () => {

        it('at most 999 of one goods, counted after its lines are merged: 400, nothing taken', async () => {
            const { goodsIds: [goodsId] } = await createShop([{ price: 1, stock: 5000 }]);
            const user = await login(app);
            const res = await order(user, [{ goodsId, count: 999 }, { goodsId, count: 999 }]);
            expect(res.statusCode).to.equal(400);
            expect(res.body.message).to.contain('999');
            expect(res.body.message).to.contain(`goods ${goodsId} asks 1998`);
            expect(await stockOf(goodsId)).to.equal(5000);
            expect(await Order.count({ where: { userId: user.userId } })).to.equal(0);
        });

        it('a total of 0 fen, or past WeChat\'s 32-bit total_fee, is a 400 at creation and takes no stock', async () => {
            const { goodsIds: [free, dear] } = await createShop([{ price: 0, stock: 10 }, { price: 2147483647, stock: 10 }]);
            const user = await login(app);
            const zero = await order(user, [{ goodsId: free, count: 2 }]);
            expect(zero.statusCode).to.equal(400);
            expect(zero.body.message).to.contain('1 to 2147483647 fen');
            const huge = await order(user, [{ goodsId: dear, count: 2 }]);
            expect(huge.statusCode).to.equal(400);
            expect(huge.body.message).to.contain('4294967294');
            expect(await stockOf(free)).to.equal(10);
            expect(await stockOf(dear)).to.equal(10);

            const largest = await order(user, [{ goodsId: dear, count: 1 }]);
            expect(largest.statusCode).to.equal(201);
            expect(largest.body.totalFee).to.equal(2147483647);
        });
    });

    describe('what one buyer may hold unpaid', () => {

        it('past MAX_OPEN_ORDERS_PER_USER: 409 naming the limit, no stock taken; another buyer is not affected', async () => {
            const { goodsIds: [goodsId] } = await createShop([{ price: 100, stock: 100 }]);
            const user = await login(app);
            for (let i = 0; i < 3; ++i) {
                expect((await order(user, [{ goodsId, count: 1 }])).statusCode).to.equal(201);
            }

            const refused = await order(user, [{ goodsId, count: 1 }]);
            expect(refused.statusCode).to.equal(409);
            expect(refused.body.message).to.contain('at most 3 orders and 10 units');
            expect(await stockOf(goodsId)).to.equal(97);
            expect(await Order.count({ where: { userId: user.userId } })).to.equal(3);

            expect((await order(await login(app), [{ goodsId, count: 1 }])).statusCode).to.equal(201);
        });

        it('past MAX_OPEN_UNITS_PER_USER: 409; a smaller order still fits', async () => {
            const { goodsIds: [a, b] } = await createShop([{ price: 100, stock: 100 }, { price: 50, stock: 100 }]);
            const user = await login(app);
            expect((await order(user, [{ goodsId: a, count: 4 }, { goodsId: b, count: 2 }])).statusCode).to.equal(201);
            expect((await order(user, [{ goodsId: a, count: 5 }])).statusCode).to.equal(409);
            expect((await order(user, [{ goodsId: b, count: 4 }])).statusCode).to.equal(201);
            expect((await order(user, [{ goodsId: b, count: 1 }])).statusCode).to.equal(409);
            expect(await stockOf(a)).to.equal(96);
        });

        it('a cancelled, a paid and an expired order stop counting', async () => {
            const { goodsIds: [goodsId] } = await createShop([{ price: 250, stock: 100 }]);
            const user = await login(app);
            const placed = async (count: number) => {
                const res = await order(user, [{ goodsId, count }]);
                expect(res.statusCode).to.equal(201);
                return res.body;
            };
            const orders = [await placed(3), await placed(3), await placed(3)];             // 3 orders, 9 units
            expect((await order(user, [{ goodsId, count: 1 }])).statusCode).to.equal(409);

            const cancelled = await json(app.server, { method: 'POST', url: `/orders/${orders[0].id}/cancel`, headers: user.auth });
            expect(cancelled.body.status).to.equal('closed');
            await placed(1);                                                                // 3 orders, 7 units
            expect((await order(user, [{ goodsId, count: 1 }])).statusCode).to.equal(409);

            const notified = await notifyPaid(app, { outTradeNo: orders[1].outTradeNo, totalFee: orders[1].totalFee, transactionId: newTransactionId(), openid: user.openid });
            expect(notified.statusCode).to.equal(200);
            await placed(6);                                                                // 3 orders, 10 units
            expect((await order(user, [{ goodsId, count: 1 }])).statusCode).to.equal(409);

            expect(await expireOrders(app.context, new Date(Date.now() + 86400_000))).to.be.at.least(3);
            await placed(10);
            expect(await stockOf(goodsId)).to.equal(100 - 3 - 10);                          // the paid order's 3, the last 10
        });

        it('concurrent orders of one buyer cannot slip past the limit together', async () => {
            const { goodsIds: [goodsId] } = await createShop([{ price: 100, stock: 1000 }]);
            const user = await login(app);
            // Half of them with an Idempotency-Key: its lookup is then the transaction's first read.
            const results = await Promise.all(Array.from({ length: 12 }, (_, index) => json(app.server, {
                method: 'POST', url: '/orders', payload: { goodsList: [{ goodsId, count: 1 }] },
                headers: { ...user.auth, ...(index % 2 ? { 'idempotency-key': `race-${index}` } : {}) }
            })));
            const codes = results.map((res) => res.statusCode).sort();
            expect(codes).to.equal([...Array(3).fill(201), ...Array(9).fill(409)]);
            expect(await Order.count({ where: { userId: user.userId } })).to.equal(3);
            expect(await stockOf(goodsId)).to.equal(997);
        });
    });

    it('refuses limits that are not positive integers at start', () => {
        for (const [name, value] of [['MAX_OPEN_ORDERS_PER_USER', '0'], ['MAX_OPEN_UNITS_PER_USER', 'ten']]) {
            let problem: unknown;
            try {
                loadConfig(testEnv({ [name]: value }));
            }
            catch (err) {
                problem = err;
            }

            expect(problem).to.be.an.instanceof(ConfigError);
            expect((problem as ConfigError).problems.join()).to.contain(name);
        }

        expect(loadConfig(testEnv()).orderLimits).to.equal({ openOrdersPerUser: 10, openUnitsPerUser: 999 });
    });
});
