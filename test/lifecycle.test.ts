import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { finishClosings } from '../lib/jobs/closing';
import { expireOrders } from '../lib/jobs/expiry';
import { reconcilePayments } from '../lib/jobs/reconcile';
import { nextReconcileDelayMs } from '../lib/orders/sync';
import { JobRunner } from '../lib/jobs/runner';
import { Goods, Order, Payment } from '../models';
import { advanceClocks, cancel, eventually, eventuallyStatus, getOrder, json, passCloseWindow, pay, prepayOf, sim, startApp, stockOf, TestApp, unpaidOrder } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('order lifecycle', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());




    /** The user pays at WeChat, but the notification never arrives. */
    const payWithoutNotification = async (user: { auth: { authorization: string } }, orderId: number) => {
        const params = (await pay(app, user, orderId)).body;
        await sim(app, 'notify-faults', { mode: 'drop' });
        const paid = await sim(app, 'pay', { prepayId: prepayOf(params), ...params });
        expect(paid.statusCode).to.equal(200);
        return paid.body as { transactionId: string };
    };

    describe('cancel', () => {

        it('closes an unpaid order at WeChat and here, and gives the stock back', async () => {
            const { user, order, goodsId } = await unpaidOrder(app, { count: 3 });
            const params = (await pay(app, user, order.id)).body;
            expect(await stockOf(goodsId)).to.equal(7);
            const res = await cancel(app, user, order.id);
            expect(res.statusCode).to.equal(200);
            expect(res.body.status).to.equal('closing');        // WeChat's 5-minute close window
            expect(await stockOf(goodsId)).to.equal(7);
            expect((await pay(app, user, order.id)).statusCode).to.equal(409);
            await passCloseWindow(app);
            const closed = (await getOrder(app, user, order.id)).body;
            expect(closed.status).to.equal('closed');
            expect(closed.closedAt).to.not.be.null();
            expect(await stockOf(goodsId)).to.equal(10);
            const attempt = await sim(app, 'pay', { prepayId: prepayOf(params), ...params });      // the phone can no longer pay it
            expect(attempt.statusCode).to.be.within(400, 499);
        });

        it('closes an order that never reached WeChat', async () => {
            const { user, order, goodsId } = await unpaidOrder(app, { count: 2 });
            const res = await cancel(app, user, order.id);
            expect(res.body.status).to.equal('closed');
            expect(await stockOf(goodsId)).to.equal(10);
        });

        it('is idempotent: a second cancel changes nothing', async () => {
            const { user, order, goodsId } = await unpaidOrder(app, { count: 2 });
            await cancel(app, user, order.id);
            const again = await cancel(app, user, order.id);
            expect(again.statusCode).to.equal(200);
            expect(again.body.status).to.equal('closed');
            expect(await stockOf(goodsId)).to.equal(10);
        });

        it('releases stock once when cancels race', async () => {
            const { user, order, goodsId } = await unpaidOrder(app, { count: 4 });
            await pay(app, user, order.id);
            const results = await Promise.all(Array.from({ length: 5 }, () => cancel(app, user, order.id)));
            expect(results.every((res) => res.statusCode === 200 && res.body.status === 'closing')).to.be.true();
            expect(await stockOf(goodsId)).to.equal(6);
            await passCloseWindow(app);
            const again = await Promise.all(Array.from({ length: 5 }, () => cancel(app, user, order.id)));
            expect(again.every((res) => res.statusCode === 200 && res.body.status === 'closed')).to.be.true();
            expect(await stockOf(goodsId)).to.equal(10);
        });

        it('answers 409 for a paid order', async () => {
            const { user, order, goodsId } = await unpaidOrder(app);
            const params = (await pay(app, user, order.id)).body;
            await sim(app, 'pay', { prepayId: prepayOf(params), ...params });
            await eventuallyStatus(app, user, order.id, 'paid');
            expect((await cancel(app, user, order.id)).statusCode).to.equal(409);
            expect(await stockOf(goodsId)).to.equal(9);
        });

        it('loses to a payment made just before it: the order becomes paid and the answer is 409', async () => {
            const { user, order, goodsId } = await unpaidOrder(app);
            const { transactionId } = await payWithoutNotification(user, order.id);
            const res = await cancel(app, user, order.id);
            expect(res.statusCode).to.equal(409);
            const now = (await getOrder(app, user, order.id)).body;
            expect(now.status).to.equal('paid');
            expect(now.transactionId).to.equal(transactionId);
            expect(await stockOf(goodsId)).to.equal(9);
        });

        it('keeps the order closing, with its stock, while WeChat cannot close it, and closes it once WeChat can', async () => {
            const { user, order, goodsId } = await unpaidOrder(app);
            await pay(app, user, order.id);
            await advanceClocks(app, 6 * 60_000);
            await sim(app, 'faults', { endpoint: 'closeorder', kind: 'http500', times: 3 });
            const res = await cancel(app, user, order.id);
            expect(res.statusCode).to.equal(200);
            expect(res.body.status).to.equal('closing');
            expect(await stockOf(goodsId)).to.equal(9);
            await passCloseWindow(app);
            expect((await getOrder(app, user, order.id)).body.status).to.equal('closed');
            expect(await stockOf(goodsId)).to.equal(10);
        });

        it("answers 404 for another user's order and changes nothing", async () => {
            const { order, goodsId } = await unpaidOrder(app);
            const other = await unpaidOrder(app);
            expect((await cancel(app, other.user, order.id)).statusCode).to.equal(404);
            expect((await Order.findByPk(order.id))!.status).to.equal('unpaid');
            expect(await stockOf(goodsId)).to.equal(9);
        });
    });

    describe('expiry', () => {

        it('closes expired unpaid orders at WeChat and here, releasing stock, and leaves the others', async () => {
            const expired = await unpaidOrder(app, { count: 2 });
            await pay(app, expired.user, expired.order.id);
            const fresh = await unpaidOrder(app, { count: 2 });
            await Order.update({ expiresAt: new Date(new Date(expired.order.expiresAt).getTime() + 3600_000) }, { where: { id: fresh.order.id } });
            await advanceClocks(app, new Date(expired.order.expiresAt).getTime() + 1000 - app.context.clock.now());
            const closed = await expireOrders(app.context);
            expect(closed).to.be.at.least(1);
            expect((await Order.findByPk(expired.order.id))!.status).to.equal('closed');
            expect(await stockOf(expired.goodsId)).to.equal(10);
            expect((await Order.findByPk(fresh.order.id))!.status).to.equal('unpaid');
            expect(await stockOf(fresh.goodsId)).to.equal(8);
        });

        it('makes an expiring order paid when WeChat says it was paid', async () => {
            const { user, order, goodsId } = await unpaidOrder(app);
            await payWithoutNotification(user, order.id);
            await expireOrders(app.context, new Date(new Date(order.expiresAt).getTime() + 1000));
            expect((await Order.findByPk(order.id))!.status).to.equal('paid');
            expect(await stockOf(goodsId)).to.equal(9);
        });

        it('retries later when WeChat is down, and never closes an order twice across instances', async () => {
            const orders = await Promise.all([1, 2, 3].map(() => unpaidOrder(app)));
            for (const { user, order } of orders) {
                await pay(app, user, order.id);
            }

            await advanceClocks(app, Math.max(...orders.map(({ order }) => new Date(order.expiresAt).getTime())) + 1000 - app.context.clock.now());
            const later = new Date(app.context.clock.now());

            await sim(app, 'faults', { endpoint: 'closeorder', kind: 'http500', times: 3 });
            const failed: string[] = [];
            await expireOrders(app.context, later, 1, (message) => failed.push(message));
            expect(failed).to.have.length(1);

            // Two "instances" at once, after the first claim lapsed: each order is closed by exactly one of them.
            const afterLease = new Date(later.getTime() + 61_000);
            // The one WeChat failed to close is `closing` now: the closing job finishes it.
            const context = app.context;
            const counts = await Promise.all([expireOrders(context, afterLease), expireOrders(context, afterLease), finishClosings(context, afterLease), finishClosings(context, afterLease)]);
            expect(counts.reduce((sum, count) => sum + count, 0)).to.equal(3);
            for (const { order, goodsId } of orders) {
                expect((await Order.findByPk(order.id))!.status).to.equal('closed');
                expect(await stockOf(goodsId)).to.equal(10);
            }
        });
    });

    describe('reconciliation', () => {

        it('marks an order paid when its notification was lost', async () => {
            const { user, order } = await unpaidOrder(app);
            const { transactionId } = await payWithoutNotification(user, order.id);
            const row = (await Order.findByPk(order.id))!;
            expect(row.status).to.equal('unpaid');
            const applied = await reconcilePayments(app.context, new Date(row.nextReconcileAt!.getTime() + 1));
            expect(applied).to.be.at.least(1);
            const paid = (await Order.findByPk(order.id))!;
            expect(paid.status).to.equal('paid');
            expect(paid.transactionId).to.equal(transactionId);
            expect((await Payment.findOne({ where: { orderId: order.id } }))!.source).to.equal('query');
        });

        it('asks again on a backoff schedule while the order stays unpaid', async () => {
            const { user, order } = await unpaidOrder(app);
            await pay(app, user, order.id);
            let row = (await Order.findByPk(order.id))!;
            const first = new Date(row.nextReconcileAt!.getTime() + 1);
            await reconcilePayments(app.context, first);
            row = (await Order.findByPk(order.id))!;
            expect(row.reconcileAttempts).to.equal(1);
            expect(row.nextReconcileAt!.getTime()).to.equal(first.getTime() + nextReconcileDelayMs(1));
            expect(row.claimedUntil).to.be.null();
            expect(nextReconcileDelayMs(1)).to.be.above(nextReconcileDelayMs(0));
            expect(nextReconcileDelayMs(100)).to.equal(600_000);
        });

        it('keeps going when WeChat fails, and gets there later', async () => {
            const { user, order } = await unpaidOrder(app);
            await payWithoutNotification(user, order.id);
            const row = (await Order.findByPk(order.id))!;
            await sim(app, 'faults', { endpoint: 'orderquery', kind: 'errcode', code: 'SYSTEMERROR', times: 3 });
            const messages: string[] = [];
            const now = new Date(row.nextReconcileAt!.getTime() + 1);
            await reconcilePayments(app.context, now, 50, (message) => messages.push(message));
            expect(messages.some((message) => message.includes(`order ${order.id}`))).to.be.true();
            expect((await Order.findByPk(order.id))!.status).to.equal('unpaid');
            await reconcilePayments(app.context, new Date(now.getTime() + 600_000));
            expect((await Order.findByPk(order.id))!.status).to.equal('paid');
        });

        it('runs in the background job runner', async () => {
            const { user, order } = await unpaidOrder(app);
            await payWithoutNotification(user, order.id);
            await Order.update({ nextReconcileAt: new Date(Date.now() - 1000) }, { where: { id: order.id } });
            const runner = new JobRunner(app.context, 20, () => {});
            runner.start();
            try {
                await eventuallyStatus(app, user, order.id, 'paid');
            }
            finally {
                await runner.stop();
            }
        });
    });

    describe('GET /orders/{id}?sync=true', () => {

        it('asks WeChat first, at most once every 2 seconds', async () => {
            const { user, order } = await unpaidOrder(app);
            expect((await getOrder(app, user, order.id, true)).body.status).to.equal('unpaid');      // no prepay: nothing to ask
            await payWithoutNotification(user, order.id);
            const synced = await getOrder(app, user, order.id, true);
            expect(synced.statusCode).to.equal(200);
            expect(synced.body.status).to.equal('paid');

            const other = await unpaidOrder(app);
            await pay(app, other.user, other.order.id);
            expect((await getOrder(app, other.user, other.order.id, true)).statusCode).to.equal(200);
            await sim(app, 'faults', { endpoint: 'orderquery', kind: 'http500', times: 3 });
            expect((await getOrder(app, other.user, other.order.id, true)).statusCode).to.equal(200);      // throttled: WeChat not asked
            await Order.update({ queriedAt: new Date(Date.now() - 3000) }, { where: { id: other.order.id } });
            expect((await getOrder(app, other.user, other.order.id, true)).statusCode).to.equal(503);      // asked, and WeChat failed
        });
    });

    it('keeps stock exact through a mix of paid, cancelled and expired orders', async () => {
        const { Shop } = await import('../models');
        const shop = await Shop.create({ name: 'mix', description: '', logoUrl: null });
        const goods = await Goods.create({ shopId: shop.id, name: 'mixed', thumbUrl: null, price: 100, stock: 20 } as any);
        const outcomes: string[] = [];
        for (let i = 0; i < 6; ++i) {
            const { user } = await unpaidOrder(app);
            const created = await json(app.server, { method: 'POST', url: '/orders', headers: user.auth, payload: { goodsList: [{ goodsId: goods.id, count: 2 }] } });
            const id = created.body.id;
            if (i % 3 === 0) {
                const params = (await pay(app, user, id)).body;
                await sim(app, 'pay', { prepayId: prepayOf(params), ...params });
                await eventuallyStatus(app, user, id, 'paid');
                outcomes.push('paid');
            }
            else if (i % 3 === 1) {
                await cancel(app, user, id);
                outcomes.push('closed');
            }
            else {
                await Order.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id } });
                await eventually(async () => (await expireOrders(app.context)) >= 0 && (await Order.findByPk(id))!.status === 'closed', 'expiry');
                outcomes.push('closed');
            }
        }

        const paidUnits = outcomes.filter((outcome) => outcome === 'paid').length * 2;
        expect(await stockOf(goods.id)).to.equal(20 - paidUnits);
    });
});
