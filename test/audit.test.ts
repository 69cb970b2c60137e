import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { expireOrders } from '../lib/jobs/expiry';
import { orderHistory } from '../lib/orders/events';
import { transition } from '../lib/orders/status';
import { Order, OrderEvent } from '../models';
import { newTransactionId, notifyPaid } from './signed-notify';
import { json, startApp, TestApp, unpaidOrder } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('the audit trail of order status changes (order_events)', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
    });
    after(() => app.stop());

    const history = async (orderId: number) => (await orderHistory(orderId)).map((event) => ({
        from: event.fromStatus, to: event.toStatus, actor: event.actorKind, actorId: event.actorId, reason: event.reason
    }));
    const notify = (order: { outTradeNo: string; totalFee: number }, transactionId: string) =>
        notifyPaid(app, { outTradeNo: order.outTradeNo, totalFee: order.totalFee, transactionId });
    const renameEvents = (from: string, to: string) => app.context.sequelize.getQueryInterface().renameTable(from, to);

    it('records the creation by the buyer and the payment by WeChat, oldest first', async () => {
        const { user, order } = await unpaidOrder(app);
        const transactionId = newTransactionId();
        expect((await notify(order, transactionId)).statusCode).to.equal(200);
        expect(await history(order.id)).to.equal([
            { from: null, to: 'unpaid', actor: 'buyer', actorId: String(user.userId), reason: 'placed' },
            { from: 'unpaid', to: 'paid', actor: 'wechat', actorId: null, reason: `paid: transaction ${transactionId}` }
        ]);

        expect((await notify(order, transactionId)).statusCode).to.equal(200);         // a duplicate changes nothing
        expect(await history(order.id)).to.have.length(2);
    });

    it('records a cancel and an expiry; of five racing cancels only the one that closed it', async () => {
        const cancelled = await unpaidOrder(app);
        const results = await Promise.all(Array.from({ length: 5 }, () =>
            json(app.server, { method: 'POST', url: `/orders/${cancelled.order.id}/cancel`, headers: cancelled.user.auth })));
        expect(results.map((res) => res.statusCode)).to.equal([200, 200, 200, 200, 200]);
        expect((await history(cancelled.order.id)).slice(1)).to.equal([{ from: 'unpaid', to: 'closed', actor: 'buyer', actorId: String((await Order.findByPk(cancelled.order.id))!.userId), reason: 'cancelled by the buyer' }]);

        const expired = await unpaidOrder(app);
        await expireOrders(app.context, new Date(new Date(expired.order.expiresAt).getTime() + 1000));
        expect((await history(expired.order.id)).map((event) => `${event.from} → ${event.to}`)).to.equal(['null → unpaid', 'unpaid → closed']);
    });

    it('writes the event in the transaction of the change: when the event cannot be written, the payment is not applied', async () => {
        const { order } = await unpaidOrder(app);
        const transactionId = newTransactionId();
        await renameEvents('order_events', 'order_events_away');
        try {
            expect((await notify(order, transactionId)).statusCode).to.equal(500);       // WeChat retries later
        }
        finally {
            await renameEvents('order_events_away', 'order_events');
        }

        expect((await Order.findByPk(order.id))!.status).to.equal('unpaid');
        expect(await history(order.id)).to.have.length(1);

        expect((await notify(order, transactionId)).statusCode).to.equal(200);
        expect((await Order.findByPk(order.id))!.status).to.equal('paid');
        expect((await history(order.id)).map((event) => event.to)).to.equal(['unpaid', 'paid']);
    });

    it('transition() opens a transaction when given none, and a rolled-back change leaves no event', async () => {
        const { order } = await unpaidOrder(app);
        const { sequelize } = app.context;
        const rolledBack = sequelize.transaction(async (transaction) => {
            expect(await transition(order.id, 'unpaid', 'closed', { closedAt: new Date() }, transaction, {}, { actor: { kind: 'staff', id: 7 }, reason: 'test' })).to.be.true();
            throw new Error('changed my mind');
        });
        await expect(rolledBack).to.reject('changed my mind');
        expect((await Order.findByPk(order.id))!.status).to.equal('unpaid');
        expect(await OrderEvent.count({ where: { orderId: order.id } })).to.equal(1);

        expect(await transition(order.id, 'unpaid', 'closed', { closedAt: new Date() }, undefined, {}, { actor: { kind: 'staff', id: 7 }, reason: 'closed by staff' })).to.be.true();
        expect(await transition(order.id, 'unpaid', 'closed', { closedAt: new Date() })).to.be.false();
        expect((await history(order.id)).slice(1)).to.equal([{ from: 'unpaid', to: 'closed', actor: 'staff', actorId: '7', reason: 'closed by staff' }]);
    });
});
