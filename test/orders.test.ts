import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { Goods, IdempotencyKey, Order, OrderItem } from '../models';
import { newOutTradeNo, normaliseLines } from '../lib/orders/create';
import { purgeIdempotencyKeys } from '../lib/jobs/idempotency';
import { createShop, json, login, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('orders', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
    });
    after(() => app.stop());

    const order = (auth: { authorization: string }, goodsList: unknown, headers: Record<string, string> = {}) =>
        json(app.server, { method: 'POST', url: '/orders', headers: { ...auth, ...headers }, payload: { goodsList } });

    const stockOf = async (goodsId: number) => (await Goods.findByPk(goodsId))!.stock;

    describe('POST /orders', () => {

        it('creates an order with prices and names from the database and takes the stock', async () => {
            const { goodsIds: [tea, cup] } = await createShop([{ name: '龙井', price: 26800, stock: 5 }, { name: '盖碗', price: 12800, stock: 3 }]);
            const user = await login(app);
            const res = await order(user.auth, [{ goodsId: tea, count: 2 }, { goodsId: cup, count: 1 }]);
            expect(res.statusCode).to.equal(201);
            expect(res.body.status).to.equal('unpaid');
            expect(res.body.totalFee).to.equal(2 * 26800 + 12800);
            expect(res.body.items).to.equal([
                { goodsId: tea, name: '龙井', price: 26800, count: 2 },
                { goodsId: cup, name: '盖碗', price: 12800, count: 1 }
            ]);
            expect(res.body.outTradeNo).to.match(/^[0-9A-Za-z]{30}$/);
            expect(res.body.paidAt).to.be.null();
            expect(new Date(res.body.expiresAt).getTime() - new Date(res.body.createdAt).getTime()).to.be.within(899_000, 901_000);
            expect(await stockOf(tea)).to.equal(3);
            expect(await stockOf(cup)).to.equal(2);
        });

        it('merges lines of the same goods', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 100, stock: 10 }]);
            const user = await login(app);
            const res = await order(user.auth, [{ goodsId: id, count: 2 }, { goodsId: id, count: 3 }]);
            expect(res.statusCode).to.equal(201);
            expect(res.body.items).to.have.length(1);
            expect(res.body.items[0].count).to.equal(5);
            expect(res.body.totalFee).to.equal(500);
            expect(await stockOf(id)).to.equal(5);
        });

        it('answers 404 for unknown goods and writes nothing', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 100, stock: 10 }]);
            const user = await login(app);
            const before = await Order.count();
            const res = await order(user.auth, [{ goodsId: id, count: 1 }, { goodsId: 999999, count: 1 }]);
            expect(res.statusCode).to.equal(404);
            expect(res.body.message).to.contain('999999');
            expect(await Order.count()).to.equal(before);
            expect(await stockOf(id)).to.equal(10);
        });

        it('answers 409 naming the goods when stock is short, and rolls back the other lines', async () => {
            const { goodsIds: [plenty, scarce] } = await createShop([{ name: 'plenty', price: 100, stock: 10 }, { name: '限量款桂花米糕', price: 2600, stock: 1 }]);
            const user = await login(app);
            const before = await Order.count();
            const res = await order(user.auth, [{ goodsId: plenty, count: 4 }, { goodsId: scarce, count: 2 }]);
            expect(res.statusCode).to.equal(409);
            expect(res.body.message).to.contain('限量款桂花米糕');
            expect(await stockOf(plenty)).to.equal(10);
            expect(await stockOf(scarce)).to.equal(1);
            expect(await Order.count()).to.equal(before);
        });

        it('refuses prices, totals, statuses and user ids in the body (400) and writes nothing', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 100, stock: 10 }]);
            const user = await login(app);
            const before = await Order.count();
            for (const payload of [
                { goodsList: [{ goodsId: id, count: 1, price: 1 }] },
                { goodsList: [{ goodsId: id, count: 1 }], totalFee: 1 },
                { goodsList: [{ goodsId: id, count: 1 }], status: 'paid' },
                { goodsList: [{ goodsId: id, count: 1 }], userId: 1 },
                { goodsList: [{ goodsId: id, count: 1 }], openid: 'oX' },
                { goodsList: [{ goodsId: id, count: 0 }] },
                { goodsList: [{ goodsId: id, count: 1.5 }] },
                { goodsList: [{ goodsId: '1; DROP TABLE goods', count: 1 }] },
                { goodsList: [] },
                {}
            ]) {
                const res = await json(app.server, { method: 'POST', url: '/orders', headers: user.auth, payload });
                expect(res.statusCode, JSON.stringify(payload)).to.equal(400);
            }

            expect(await Order.count()).to.equal(before);
            expect(await stockOf(id)).to.equal(10);
        });

        it('needs a token', async () => {
            const res = await json(app.server, { method: 'POST', url: '/orders', payload: { goodsList: [{ goodsId: 1, count: 1 }] } });
            expect(res.statusCode).to.equal(401);
        });

        it('sells the last unit exactly once to many parallel buyers', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 990, stock: 1 }]);
            const buyers = await Promise.all(Array.from({ length: 8 }, () => login(app)));
            const results = await Promise.all(buyers.map((buyer) => order(buyer.auth, [{ goodsId: id, count: 1 }])));
            const codes = results.map((res) => res.statusCode).sort();
            expect(codes.filter((code) => code === 201)).to.have.length(1);
            expect(codes.filter((code) => code === 409)).to.have.length(7);
            expect(await stockOf(id)).to.equal(0);
            expect(await OrderItem.count({ where: { goodsId: id } })).to.equal(1);
        });

        it('never oversells when parallel orders take several units each', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 100, stock: 10 }]);
            const buyers = await Promise.all(Array.from({ length: 6 }, () => login(app)));
            const results = await Promise.all(buyers.map((buyer) => order(buyer.auth, [{ goodsId: id, count: 3 }])));
            const sold = results.filter((res) => res.statusCode === 201).length;
            expect(sold).to.equal(3);
            expect(await stockOf(id)).to.equal(1);
        });
    });

    describe('Idempotency-Key', () => {

        it('returns the same order for the same key and body, without taking stock twice', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 300, stock: 10 }]);
            const user = await login(app);
            const first = await order(user.auth, [{ goodsId: id, count: 2 }], { 'idempotency-key': 'key-1' });
            const again = await order(user.auth, [{ goodsId: id, count: 2 }], { 'idempotency-key': 'key-1' });
            expect(first.statusCode).to.equal(201);
            expect(again.statusCode).to.equal(201);
            expect(again.headers['idempotent-replayed']).to.equal('true');
            expect(again.body).to.equal(first.body);
            expect(await stockOf(id)).to.equal(8);
        });

        it('answers 409 for the same key with another body', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 300, stock: 10 }]);
            const user = await login(app);
            await order(user.auth, [{ goodsId: id, count: 1 }], { 'idempotency-key': 'key-2' });
            const res = await order(user.auth, [{ goodsId: id, count: 2 }], { 'idempotency-key': 'key-2' });
            expect(res.statusCode).to.equal(409);
            expect(await stockOf(id)).to.equal(9);
        });

        it('keeps keys per user', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 300, stock: 10 }]);
            const alice = await login(app);
            const bob = await login(app);
            const a = await order(alice.auth, [{ goodsId: id, count: 1 }], { 'idempotency-key': 'shared' });
            const b = await order(bob.auth, [{ goodsId: id, count: 1 }], { 'idempotency-key': 'shared' });
            expect(b.statusCode).to.equal(201);
            expect(b.body.id).to.not.equal(a.body.id);
            expect(await stockOf(id)).to.equal(8);
        });

        it('makes one order of concurrent retries with one key', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 300, stock: 10 }]);
            const user = await login(app);
            const results = await Promise.all(Array.from({ length: 5 }, () => order(user.auth, [{ goodsId: id, count: 1 }], { 'idempotency-key': 'burst' })));
            expect(results.map((res) => res.statusCode)).to.equal([201, 201, 201, 201, 201]);
            expect(new Set(results.map((res) => res.body.id)).size).to.equal(1);
            expect(await stockOf(id)).to.equal(9);
        });

        it('forgets keys after 24 hours', async () => {
            const { goodsIds: [id] } = await createShop([{ price: 300, stock: 10 }]);
            const user = await login(app);
            await order(user.auth, [{ goodsId: id, count: 1 }], { 'idempotency-key': 'old' });
            expect(await purgeIdempotencyKeys(new Date(Date.now() + 23 * 3600_000))).to.equal(0);
            expect(await IdempotencyKey.count({ where: { key: 'old' } })).to.equal(1);
            expect(await purgeIdempotencyKeys(new Date(Date.now() + 25 * 3600_000))).to.be.at.least(1);
            expect(await IdempotencyKey.count({ where: { key: 'old' } })).to.equal(0);
        });

        it('refuses a malformed key', async () => {
            const user = await login(app);
            const res = await order(user.auth, [{ goodsId: 1, count: 1 }], { 'idempotency-key': 'x'.repeat(200) });
            expect(res.statusCode).to.equal(400);
        });
    });

    describe('GET /orders', () => {

        it("lists only the caller's orders, newest first, paginated", async () => {
            const { goodsIds: [id] } = await createShop([{ price: 100, stock: 100 }]);
            const alice = await login(app);
            const bob = await login(app);
            const mine = [];
            for (let i = 1; i <= 3; ++i) {
                mine.push((await order(alice.auth, [{ goodsId: id, count: i }])).body.id);
            }

            await order(bob.auth, [{ goodsId: id, count: 1 }]);
            const page1 = await json(app.server, { method: 'GET', url: '/orders?limit=2', headers: alice.auth });
            expect(page1.statusCode).to.equal(200);
            expect(page1.body.totalCount).to.equal(3);
            expect(page1.body.results.map((o: any) => o.id)).to.equal([mine[2], mine[1]]);
            expect(page1.body.results[0].items[0].count).to.equal(3);
            const page2 = await json(app.server, { method: 'GET', url: '/orders?limit=2&page=2', headers: alice.auth });
            expect(page2.body.results.map((o: any) => o.id)).to.equal([mine[0]]);
        });

        it("answers 404 for another user's order", async () => {
            const { goodsIds: [id] } = await createShop([{ price: 100, stock: 100 }]);
            const alice = await login(app);
            const bob = await login(app);
            const created = await order(alice.auth, [{ goodsId: id, count: 1 }]);
            const own = await json(app.server, { method: 'GET', url: `/orders/${created.body.id}`, headers: alice.auth });
            expect(own.statusCode).to.equal(200);
            expect(own.body.id).to.equal(created.body.id);
            const other = await json(app.server, { method: 'GET', url: `/orders/${created.body.id}`, headers: bob.auth });
            expect(other.statusCode).to.equal(404);
            const missing = await json(app.server, { method: 'GET', url: '/orders/987654', headers: alice.auth });
            expect(missing.statusCode).to.equal(404);
        });
    });

    describe('helpers', () => {

        it('makes out_trade_no that WeChat accepts and that are all different', () => {
            const now = new Date('2026-11-22T09:30:00Z');
            const numbers = new Set(Array.from({ length: 1000 }, () => newOutTradeNo(now)));
            expect(numbers.size).to.equal(1000);
            for (const number of numbers) {
                expect(number).to.match(/^20261122173000[0-9A-Za-z]{16}$/);
            }
        });

        it('normalises lines in goods id order', () => {
            expect(normaliseLines([{ goodsId: 3, count: 1 }, { goodsId: 1, count: 2 }, { goodsId: 3, count: 4 }])).to.equal([{ goodsId: 1, count: 2 }, { goodsId: 3, count: 5 }]);
        });
    });
});
