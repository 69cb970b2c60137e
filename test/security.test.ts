import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { Goods, Order, OrderItem, Payment, User } from '../models';
import { signV2 } from '../lib/wechatpay/sign';
import { formatBeijingCompact } from '../lib/wechatpay/time';
import { toXml } from '../lib/wechatpay/xml';
import { createShop, eventuallyStatus, getOrder, json, login, pay, sim, startApp, TestApp, unpaidOrder } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** A small seeded PRNG (mulberry32): the fuzz runs are the same every time. */
function random(seed: number) {
    let state = seed >>> 0;
    const next = () => {
        state = (state + 0x6D2B79F5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };

    const int = (max: number) => Math.floor(next() * max);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)];
    return { next, int, pick };
}

/** Everything an attack must not change. */
async function snapshot() {
    const orders = await Order.findAll({ attributes: ['id', 'status', 'transactionId', 'refundRequired', 'prepayId'], order: [['id', 'ASC']], raw: true });
    const goods = await Goods.findAll({ attributes: ['id', 'stock', 'price'], order: [['id', 'ASC']], raw: true });
    return JSON.stringify({ orders, goods, items: await OrderItem.count(), payments: await Payment.count(), users: await User.count() });
}

describe('security', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    describe("another user's order", () => {

        it('is a 404 on every route that takes an order id, and nothing changes', async () => {
            const { order } = await unpaidOrder(app);
            const mallory = await login(app);
            const before = await snapshot();
            const attempts = [
                { method: 'GET', url: `/orders/${order.id}` },
                { method: 'GET', url: `/orders/${order.id}?sync=true` },
                { method: 'POST', url: `/orders/${order.id}/pay`, payload: {} },
                { method: 'POST', url: `/orders/${order.id}/pay`, payload: { tradeType: 'NATIVE' } },
                { method: 'POST', url: `/orders/${order.id}/cancel` }
            ];
            for (const attempt of attempts) {
                const res = await json(app.server, { ...attempt, headers: mallory.auth });
                expect(res.statusCode, attempt.url).to.equal(404);
                expect(JSON.stringify(res.body)).to.not.contain(order.outTradeNo);
            }

            const list = await json(app.server, { method: 'GET', url: '/orders', headers: mallory.auth });
            expect(list.body.totalCount).to.equal(0);
            expect(await snapshot()).to.equal(before);
        });

        it("stays a 404 for a paid order, whose payment facts are not shown", async () => {
            const { user, order } = await unpaidOrder(app);
            const params = (await pay(app, user, order.id)).body;
            await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
            const paid = await eventuallyStatus(app, user, order.id, 'paid');
            const mallory = await login(app);
            const res = await getOrder(app, mallory, order.id);
            expect(res.statusCode).to.equal(404);
            expect(JSON.stringify(res.body)).to.not.contain(paid.transactionId);
        });
    });

    describe('mass assignment', () => {

        it('refuses server-owned fields in every body', async () => {
            const { user, order } = await unpaidOrder(app);
            const before = await snapshot();
            const code = (await sim(app, 'login-codes', {})).body.code;
            const attempts = [
                { url: '/users/login', payload: { code, openid: 'oAttacker' } },
                { url: '/users/login', payload: { code, userId: 1 } },
                { url: '/orders', payload: { goodsList: [{ goodsId: order.items[0].goodsId, count: 1 }], status: 'paid' } },
                { url: '/orders', payload: { goodsList: [{ goodsId: order.items[0].goodsId, count: 1, price: 0 }] } },
                { url: `/orders/${order.id}/pay`, payload: { totalFee: 1 } },
                { url: `/orders/${order.id}/pay`, payload: { tradeType: 'JSAPI', openid: 'oAttacker' } },
                { url: `/orders/${order.id}/cancel`, payload: { status: 'paid' } }
            ];
            for (const attempt of attempts) {
                const res = await json(app.server, { method: 'POST', ...attempt, headers: user.auth });
                expect(res.statusCode, `${attempt.url} ${JSON.stringify(attempt.payload)}`).to.equal(400);
            }

            expect(await snapshot()).to.equal(before);
        });
    });

    describe('fuzzing', () => {

        it('finds no 5xx and no change in the database at the notify endpoint', { timeout: 180_000 }, async () => {
            const { user, order } = await unpaidOrder(app, { price: 4321 });
            const params = (await pay(app, user, order.id)).body;
            await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
            await eventuallyStatus(app, user, order.id, 'paid');

            // A notification that verifies: any mutation that still verifies is a duplicate and must change nothing.
            const paid = (await Order.findByPk(order.id))!;
            const fields: Record<string, string | number> = {
                appid: app.config.wechat.appId, mch_id: app.config.pay.mchId, nonce_str: 'fuzz', openid: user.openid,
                out_trade_no: order.outTradeNo, result_code: 'SUCCESS', return_code: 'SUCCESS', total_fee: 4321,
                cash_fee: 4321, time_end: formatBeijingCompact(paid.paidAt!), trade_type: 'JSAPI', transaction_id: paid.transactionId!
            };
            fields.sign = signV2(fields, app.config.pay.apiKey);
            const valid = toXml(fields);

            const rng = random(20261122);
            const fragments = ['<', '>', '</xml>', '<xml>', '<![CDATA[', ']]>', '&amp;', '&lol;', '<!DOCTYPE x>', '<!ENTITY a "b">', '\u0000', '\uFFFF', '中文',
                '<__proto__>1</__proto__>', '<constructor>1</constructor>', '<total_fee>1</total_fee>', '<sign>0</sign>', '"', "'", '\n', '<a><b>1</b></a>', '<?xml version="1.0"?>'];
            const mutate = (text: string): string => {
                const at = rng.int(text.length + 1);
                switch (rng.int(6)) {
                    case 0: return text.slice(0, at) + rng.pick(fragments) + text.slice(at);
                    case 1: return text.slice(0, at) + text.slice(Math.min(text.length, at + 1 + rng.int(20)));
                    case 2: return text.slice(0, at) + String.fromCharCode(rng.int(0x3000)) + text.slice(at + 1);
                    case 3: return text.slice(0, at);
                    case 4: return text.slice(0, at) + text.slice(at).replace(/\d/, String(rng.int(10)));
                    default: return text.replace(/<(\w+)>/, (_all, name) => `<${name}>${rng.pick(fragments)}`);
                }
            };

            // A fixed number of seeded cases, however slow the machine: the test's timeout is the only clock.
            const before = await snapshot();
            const statuses = new Map<number, number>();
            const cases = 2000;
            for (let sent = 0; sent < cases; ++sent) {
                let body = valid;
                for (let i = 1 + rng.int(4); i > 0; --i) {
                    body = mutate(body);
                }

                const res = await app.server.inject({ method: 'POST', url: '/orders/pay/notify', headers: { 'content-type': 'text/xml' }, payload: body });
                statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
                expect(res.statusCode, body).to.be.below(500);
            }

            expect([...statuses.values()].reduce((sum, count) => sum + count, 0)).to.equal(cases);
            expect(statuses.get(400) ?? 0).to.be.at.least(cases / 2);
            expect(await snapshot()).to.equal(before);
        });

        it('finds no 5xx and no change in the database at the order routes', { timeout: 180_000 }, async () => {
            const { goodsIds: [soldOut] } = await createShop([{ price: 100, stock: 0 }]);
            const user = await login(app);
            const { order } = await unpaidOrder(app);
            const rng = random(7);
            const values = [null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 53, '', 'NaN', 'x'.repeat(300), [], {}, [1], { a: 1 }, '__proto__', soldOut, 1_000_000 + rng.int(1000)];
            const keys = ['goodsList', 'goodsId', 'count', 'price', 'status', 'userId', '__proto__', 'constructor', 'tradeType', 'totalFee'];
            const value = (depth: number): unknown => {
                if (depth < 3 && rng.int(3) === 0) {
                    return rng.int(2) ? Array.from({ length: rng.int(4) }, () => value(depth + 1)) : object(depth + 1);
                }

                return rng.pick(values);
            };

            const object = (depth: number): Record<string, unknown> => {
                const result: Record<string, unknown> = {};
                for (let i = rng.int(4); i > 0; --i) {
                    result[rng.pick(keys)] = value(depth);
                }

                return result;
            };

            const line = () => ({ goodsId: rng.pick([soldOut, 1_000_000 + rng.int(1000), rng.pick(values)]), count: rng.pick([1, 2, rng.pick(values)]) });
            const before = await snapshot();
            const cases = 2000;
            const answered = new Map<number, number>();
            for (let sent = 0; sent < cases; ++sent) {
                const route = rng.pick([
                    { method: 'POST', url: '/orders', payload: rng.int(2) ? { goodsList: Array.from({ length: rng.int(3) }, line) } : object(0) },
                    { method: 'POST', url: `/orders/${rng.pick([order.id, 'x', -1, 2 ** 40, '1e3'])}/pay`, payload: object(0) },
                    { method: 'POST', url: `/orders/${rng.pick(['x', -1, 2 ** 40, '0x10'])}/cancel`, payload: object(0) },
                    { method: 'GET', url: `/orders/${rng.pick([order.id, 'x', '%00', '../1'])}?sync=${rng.pick(['x', '1', 'true'])}` },
                    { method: 'GET', url: `/orders?page=${rng.pick(values)}&limit=${rng.pick(values)}` }
                ]);
                const headers: Record<string, string> = { ...user.auth };
                if (rng.int(4) === 0) {
                    headers['idempotency-key'] = rng.pick(['k', '', ' ', 'x'.repeat(200), '\u00e9']);
                }

                const res = await app.server.inject({ ...route, headers, payload: route.payload as object });
                expect(res.statusCode, `${route.method} ${route.url} ${JSON.stringify(route.payload)}`).to.be.below(500);
                answered.set(res.statusCode, (answered.get(res.statusCode) ?? 0) + 1);
            }

            // Most cases are refused by validation: the fuzz reached the handlers' checks, not only the router.
            expect(answered.get(400) ?? 0).to.be.at.least(cases / 4);
            const after = JSON.parse(await snapshot());
            const expected = JSON.parse(before);
            // The fuzzed pay calls may give the caller's own unpaid order a prepay; nothing else may change.
            for (const row of after.orders) {
                row.prepayId = null;
            }

            for (const row of expected.orders) {
                row.prepayId = null;
            }

            expect(after).to.equal(expected);
        });
    });
});
