import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { reconcilePayments } from '../lib/jobs/reconcile';
import { JobRunner } from '../lib/jobs/runner';
import { describe as describeBody } from '../lib/orders/checkout';
import { closeWindowMs } from '../lib/orders/close';
import { formatBeijingCompact, parseBeijingCompact } from '../lib/wechatpay/time';
import { Order, Payment } from '../models';
import { advanceClocks, cancel, createShop, getOrder, json, login, passCloseWindow, pay, prepayOf, sim, sleep, startApp, stockOf, TestApp, unpaidOrder } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** The money path against the simulator with every WeChat rule on (issue 9). */
describe('the money path under WeChat\'s rules', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    const tradeOf = (outTradeNo: string) => app.sandbox.trades.find(outTradeNo);
    const runJobs = () => new JobRunner(app.context, 1000, () => {}).runOnce();

    it('finding 1: a cancel racing a slow first pay never closes here while WeChat has the trade, and that pay answers 409', async () => {
        const { user, order, goodsId } = await unpaidOrder(app, { count: 2 });
        await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'timeout', delayMs: 600 });
        const paying = pay(app, user, order.id);
        await sleep(200);
        const cancelled = await cancel(app, user, order.id);
        expect(cancelled.statusCode).to.equal(200);
        expect(cancelled.body.status).to.equal('closing');
        const paid = await paying;
        expect(paid.statusCode).to.equal(409);
        expect(paid.body.package).to.not.exist();
        expect(tradeOf(order.outTradeNo)!.state).to.equal('NOTPAY');
        expect(await stockOf(goodsId)).to.equal(8);

        await passCloseWindow(app);
        expect(tradeOf(order.outTradeNo)!.state).to.equal('CLOSED');
        expect((await getOrder(app, user, order.id)).body.status).to.equal('closed');
        expect(await stockOf(goodsId)).to.equal(10);
    });

    it('double tap: pay and cancel at once, the payment\'s notification lost: the payment is recorded whichever wins', async () => {
        for (let round = 0; round < 4; ++round) {
            const { user, order, goodsId } = await unpaidOrder(app);
            const [paid, cancelled] = await Promise.all([pay(app, user, order.id), cancel(app, user, order.id)]);
            expect(cancelled.statusCode).to.equal(200);
            if (paid.statusCode === 200) {
                // The parameters were handed out while the order was unpaid: the phone can use them.
                await sim(app, 'notify-faults', { mode: 'drop' });
                expect((await sim(app, 'pay', { prepayId: prepayOf(paid.body), ...paid.body })).statusCode).to.equal(200);
            }
            else {
                expect(paid.statusCode).to.equal(409);
            }

            await passCloseWindow(app);
            const trade = tradeOf(order.outTradeNo);
            const final = (await getOrder(app, user, order.id)).body;
            const payments = await Payment.findAll({ where: { orderId: order.id } });
            if (trade?.state === 'SUCCESS') {
                expect(final.status).to.equal('paid');
                expect(payments).to.have.length(1);
                expect(payments[0].transactionId).to.equal(trade.transactionId!);
                expect(await stockOf(goodsId)).to.equal(9);
            }
            else {
                expect(final.status).to.equal('closed');
                expect(payments).to.have.length(0);
                expect(await stockOf(goodsId)).to.equal(10);
            }
        }
    });

    it('finding 2: a cancel inside WeChat\'s 5-minute close window is no 5xx: closing, no new pay, closed by the job after the window', async () => {
        const { user, order, goodsId } = await unpaidOrder(app);
        await pay(app, user, order.id);
        const cancelled = await cancel(app, user, order.id);
        expect(cancelled.statusCode).to.equal(200);
        expect(cancelled.body.status).to.equal('closing');
        expect((await cancel(app, user, order.id)).body.status).to.equal('closing');
        const again = await pay(app, user, order.id);
        expect(again.statusCode).to.equal(409);
        expect(again.body.message).to.contain('closing');
        expect(tradeOf(order.outTradeNo)!.state).to.equal('NOTPAY');     // the simulator refuses an early close
        expect(await stockOf(goodsId)).to.equal(9);

        await advanceClocks(app, closeWindowMs - 60_000);
        await runJobs();
        expect((await Order.findByPk(order.id))!.status).to.equal('closing');
        await passCloseWindow(app);
        expect((await Order.findByPk(order.id))!.status).to.equal('closed');
        expect(tradeOf(order.outTradeNo)!.state).to.equal('CLOSED');
        expect(await stockOf(goodsId)).to.equal(10);
    });

    it('a closing order takes the payment made before the cancel: it becomes paid, not closed', async () => {
        const { user, order, goodsId } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        await sim(app, 'notify-faults', { mode: 'delay', delayMs: 300 });
        expect((await sim(app, 'pay', { prepayId: prepayOf(params), ...params })).statusCode).to.equal(200);
        // The cancel asks WeChat (orderquery) since it cannot close yet, and learns of the payment.
        const cancelled = await cancel(app, user, order.id);
        expect(cancelled.statusCode).to.equal(409);
        expect((await getOrder(app, user, order.id)).body.status).to.equal('paid');
        expect(await stockOf(goodsId)).to.equal(9);
    });

    it('finding 3: a first pay in the order\'s last 5 minutes extends its expiry so time_expire is valid at WeChat', async () => {
        const { user, order } = await unpaidOrder(app);
        await advanceClocks(app, new Date(order.expiresAt).getTime() - 3 * 60_000 - app.context.clock.now());
        const paid = await pay(app, user, order.id);
        expect(paid.statusCode).to.equal(200);
        const now = app.context.clock.now();
        const row = (await Order.findByPk(order.id))!;
        expect(row.expiresAt.getTime()).to.be.at.least(now + 5 * 60_000);
        expect(tradeOf(order.outTradeNo)!.timeExpire).to.equal(parseBeijingCompact(formatBeijingCompact(row.expiresAt))!.getTime());
        expect((await getOrder(app, user, order.id)).body.expiresAt).to.equal(row.expiresAt.toISOString());
    });

    it('finding 4: a close that lags at WeChat and a payment made in the lag are found by the late queries and recorded', async () => {
        const { user, order, goodsId } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        await sim(app, 'settings', { closeLagMs: 10 * 60_000 });
        try {
            expect((await cancel(app, user, order.id)).body.status).to.equal('closing');
            await passCloseWindow(app);
            expect((await Order.findByPk(order.id))!.status).to.equal('closed');
            expect(await stockOf(goodsId)).to.equal(10);

            // WeChat's close has not taken effect yet: the phone still pays, and the notification is lost.
            await sim(app, 'notify-faults', { mode: 'drop' });
            expect((await sim(app, 'pay', { prepayId: prepayOf(params), ...params })).statusCode).to.equal(200);
        }
        finally {
            await sim(app, 'settings', { closeLagMs: 0 });
        }

        const row = (await Order.findByPk(order.id))!;
        expect(row.nextReconcileAt).to.not.be.null();
        await advanceClocks(app, Math.max(0, row.nextReconcileAt!.getTime() - app.context.clock.now()) + 1000);
        expect(await reconcilePayments(app.context)).to.equal(0);
        const closed = (await getOrder(app, user, order.id)).body;
        expect(closed.status).to.equal('closed');
        expect(closed.refundRequired).to.be.true();
        const [payment] = await Payment.findAll({ where: { orderId: order.id } });
        expect(payment.outcome).to.equal('refund_required');
        expect(payment.source).to.equal('query');
        expect(await stockOf(goodsId)).to.equal(10);
    });

    it('finding 4: the late queries of a closed order stop after a while', async () => {
        const { user, order } = await unpaidOrder(app);
        await pay(app, user, order.id);
        await cancel(app, user, order.id);
        await passCloseWindow(app);
        for (let look = 0; look < 10; ++look) {
            const row = (await Order.findByPk(order.id))!;
            if (!row.nextReconcileAt) {
                expect(look).to.equal(4);
                return;
            }

            await reconcilePayments(app.context, new Date(row.nextReconcileAt.getTime() + 1));
        }

        throw new Error('a closed order was queried forever');
    });

    it('finding 5: orderquery REFUND for an order unpaid here records the payment and never shows a plain paid order', async () => {
        const { user, order, goodsId } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        await sim(app, 'notify-faults', { mode: 'drop' });
        await sim(app, 'pay', { prepayId: prepayOf(params), ...params });
        expect((await sim(app, 'refund', { outTradeNo: order.outTradeNo })).statusCode).to.equal(200);
        const synced = await getOrder(app, user, order.id, true);
        expect(synced.statusCode).to.equal(200);
        expect(synced.body.status).to.equal('refunding');
        expect(synced.body.transactionId).to.equal(tradeOf(order.outTradeNo)!.transactionId);
        const [payment] = await Payment.findAll({ where: { orderId: order.id } });
        expect(payment.outcome).to.equal('refunded_at_wechat');
        expect(await stockOf(goodsId)).to.equal(9);
    });

    it('finding 6: ORDERCLOSED at unifiedorder closes the order here and releases its stock (orderquery first)', async () => {
        const { user, order, goodsId } = await unpaidOrder(app, { count: 3 });
        await pay(app, user, order.id);
        app.sandbox.trades.close(tradeOf(order.outTradeNo)!);          // closed at WeChat by other means
        await Order.update({ prepayExpiresAt: new Date(app.context.clock.now() - 1000) }, { where: { id: order.id } });
        const res = await pay(app, user, order.id);
        expect(res.statusCode).to.equal(409);
        expect(res.body.message).to.contain('closed at WeChat');
        expect((await getOrder(app, user, order.id)).body.status).to.equal('closed');
        expect(await stockOf(goodsId)).to.equal(10);
    });

    it('finding 6: an injected ORDERCLOSED (no trade at WeChat) closes here too', async () => {
        const { user, order, goodsId } = await unpaidOrder(app);
        await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'errcode', code: 'ORDERCLOSED' });
        expect((await pay(app, user, order.id)).statusCode).to.equal(409);
        expect((await getOrder(app, user, order.id)).body.status).to.equal('closed');
        expect(await stockOf(goodsId)).to.equal(10);
    });

    it('finding 9: concurrent first pays with JSAPI and NATIVE: the loser gets a 409 naming the fixed type', async () => {
        for (let round = 0; round < 3; ++round) {
            const { user, order } = await unpaidOrder(app);
            const results = await Promise.all([pay(app, user, order.id, 'JSAPI'), pay(app, user, order.id, 'NATIVE')]);
            expect(results.map((res) => res.statusCode).sort()).to.equal([200, 409]);
            const winner = results[0].statusCode === 200 ? 'JSAPI' : 'NATIVE';
            const loser = results.find((res) => res.statusCode === 409)!;
            expect(loser.body.message).to.contain(`being paid with ${winner}`);
            expect((await Order.findByPk(order.id))!.tradeType).to.equal(winner);
        }
    });

    it('two first pays of the same type at once both answer the same prepay', async () => {
        const { user, order } = await unpaidOrder(app);
        const results = await Promise.all([pay(app, user, order.id), pay(app, user, order.id)]);
        expect(results.map((res) => res.statusCode)).to.equal([200, 200]);
        expect(results[0].body.package).to.equal(results[1].body.package);
    });

    it('finding 10: the order body is cut to WeChat\'s 127 bytes, whole characters only', async () => {
        const { goodsIds: [goodsId] } = await createShop([{ name: '😀'.repeat(40), price: 100, stock: 5 }]);
        const user = await login(app);
        const created = await json(app.server, { method: 'POST', url: '/orders', headers: user.auth, payload: { goodsList: [{ goodsId, count: 1 }] } });
        expect((await pay(app, user, created.body.id)).statusCode).to.equal(200);

        const long = describeBody([{ name: '😀'.repeat(40) }, { name: 'x' }]);
        expect(Buffer.byteLength(long)).to.be.at.most(127);
        expect(long).to.endWith(' 等2件商品');
        expect(long).to.not.contain('\ufffd');
        expect(describeBody([{ name: 'T恤' }])).to.equal('T恤');
        expect(describeBody([])).to.equal('wxshop order');
    });

    it('probe: a huge POST /__sim/clock is refused and payments keep working', async () => {
        const before = app.context.clock.now();
        const res = await sim(app, 'clock', { advanceMs: 8.64e15 });
        expect(res.statusCode).to.equal(400);
        expect(Math.abs(app.context.clock.now() - before)).to.be.below(60_000);
        const { user, order } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        expect((await sim(app, 'pay', { prepayId: prepayOf(params), ...params })).statusCode).to.equal(200);
    });

    it('probe: a GET ?sync=true refused by its 2 s gate writes nothing', async () => {
        const { user, order } = await unpaidOrder(app);
        await pay(app, user, order.id);
        expect((await getOrder(app, user, order.id, true)).statusCode).to.equal(200);
        const sequelize = app.context.sequelize;
        const statements: string[] = [];
        const options = (sequelize as unknown as { options: { logging: unknown } }).options;
        const saved = options.logging;
        options.logging = (sql: string) => {
            statements.push(sql);
        };
        try {
            for (let i = 0; i < 5; ++i) {
                expect((await getOrder(app, user, order.id, true)).statusCode).to.equal(200);
            }
        }
        finally {
            options.logging = saved;
        }

        expect(statements.length).to.be.above(0);
        expect(statements.filter((sql) => /\bUPDATE\b/i.test(sql))).to.equal([]);
    });

    it('the backend runs on the simulator\'s clock: moving it expires orders and their trades together', async () => {
        const { user, order, goodsId } = await unpaidOrder(app);
        await pay(app, user, order.id);
        const before = app.context.clock.now();
        await advanceClocks(app, app.config.orders.ttlSeconds * 1000 + 1000);
        expect(app.context.clock.now() - before).to.be.at.least(app.config.orders.ttlSeconds * 1000);
        await runJobs();
        expect((await Order.findByPk(order.id))!.status).to.equal('closed');
        expect(tradeOf(order.outTradeNo)!.state).to.equal('CLOSED');
        expect(await stockOf(goodsId)).to.equal(10);
        expect((await pay(app, user, order.id)).statusCode).to.equal(409);
    });
});
