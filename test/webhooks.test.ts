import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import type { Config } from '../config';
import { transition } from '../lib/orders/status';
import { runWebhookJobs } from '../lib/webhooks/job';
import { rotateSecret } from '../lib/webhooks/endpoints';
import { verifyWebhook } from '../lib/webhooks/verify';
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../models';
import { MerchantAction } from '../models/merchant';
import { json, startApp, TestApp, unpaidOrder } from './helpers';
import { apiKey, merchant, staffLogin, StaffLogin } from './merchant-helpers';
import { newTransactionId, notifyPaid } from './signed-notify';
import { deliveriesOf, expectedSignature, paidOrder, parseSignature, Receiver, registerEndpoint, runJobs, webhookTestEnv } from './webhook-helpers';

const { expect } = Code;
const { describe, it, before, after, afterEach } = exports.lab = Lab.script();

const day = 86400_000;

/** The app's context with some webhook settings changed, for one job pass. */
function withWebhooks(app: TestApp, changes: Partial<Config['webhooks']>) {
    return { ...app.context, config: { ...app.config, webhooks: { ...app.config.webhooks, ...changes } } };
}

async function deliveryOf(eventId: string, endpointId: number): Promise<WebhookDelivery> {
    const event = await WebhookEvent.findOne({ where: { publicId: eventId } });
    return (await WebhookDelivery.findOne({ where: { eventId: event!.id, endpointId }, order: [['id', 'ASC']] }))!;
}

/** The one outbox event of an order of this type (throws if there is not exactly one). */
async function eventOf(orderId: number, type: string): Promise<WebhookEvent> {
    const events = await WebhookEvent.findAll({ where: { orderId, type } });
    expect(events.length).to.equal(1);
    return events[0];
}

describe('webhooks', () => {

    let app: TestApp;
    let owner: StaffLogin;
    let receiver: Receiver;

    before(async () => {
        app = await startApp(webhookTestEnv);
        owner = await staffLogin(app, 'owner');
    });

    after(async () => {
        await app.stop();
    });

    afterEach(async () => {
        for (const endpoint of await WebhookEndpoint.findAll()) {
            await merchant(app, owner, 'DELETE', `/merchant/webhooks/${endpoint.id}`);
        }

        await receiver?.stop();
    });

    describe('endpoints API', () => {

        it('registers an endpoint for the owner only, shows the secret once and audits every change', async () => {
            receiver = await new Receiver().start();
            const operator = await staffLogin(app, 'operator');
            const key = await apiKey(app, owner, ['orders:read', 'payments']);
            const payload = { url: receiver.url, eventTypes: ['order.paid'], description: 'ERP' };
            expect((await merchant(app, operator, 'POST', '/merchant/webhooks', payload)).statusCode).to.equal(403);
            expect((await merchant(app, key, 'POST', '/merchant/webhooks', payload)).statusCode).to.equal(403);
            expect((await merchant(app, undefined, 'POST', '/merchant/webhooks', payload)).statusCode).to.equal(401);
            expect(await WebhookEndpoint.count()).to.equal(0);

            const created = await merchant(app, owner, 'POST', '/merchant/webhooks', payload);
            expect(created.statusCode).to.equal(201);
            expect(created.body.secret).to.match(/^whsec_[A-Za-z0-9_-]{43}$/);
            expect(created.body).to.include({ url: receiver.url, eventTypes: ['order.paid'], description: 'ERP', enabled: true });

            const list = await merchant(app, owner, 'GET', '/merchant/webhooks');
            expect(list.statusCode).to.equal(200);
            expect(list.body).to.have.length(1);
            expect(list.body[0].secret).to.not.exist();
            expect(JSON.stringify(list.body)).to.not.contain(created.body.secret);
            expect(JSON.stringify(await WebhookEndpoint.findAll({ raw: true }))).to.not.contain(created.body.secret);

            const id = created.body.id;
            const patched = await merchant(app, owner, 'PATCH', `/merchant/webhooks/${id}`, { eventTypes: ['order.paid', 'order.closed'], enabled: false });
            expect(patched.statusCode).to.equal(200);
            expect(patched.body).to.include({ eventTypes: ['order.paid', 'order.closed'], enabled: false, disabledReason: 'disabled by staff' });

            const rotated = await merchant(app, owner, 'POST', `/merchant/webhooks/${id}/rotate-secret`);
            expect(rotated.statusCode).to.equal(200);
            expect(rotated.body.secret).to.match(/^whsec_/);
            expect(rotated.body.secret).to.not.equal(created.body.secret);
            expect(new Date(rotated.body.previousSecretExpiresAt).getTime()).to.be.above(Date.now() + app.config.webhooks.secretOverlapSeconds * 1000 - 60_000);

            expect((await merchant(app, owner, 'DELETE', `/merchant/webhooks/${id}`)).statusCode).to.equal(200);
            expect((await merchant(app, owner, 'DELETE', `/merchant/webhooks/${id}`)).statusCode).to.equal(404);
            expect((await merchant(app, owner, 'PATCH', `/merchant/webhooks/${id}`, { enabled: true })).statusCode).to.equal(404);
            expect((await merchant(app, owner, 'POST', `/merchant/webhooks/${id}/rotate-secret`)).statusCode).to.equal(404);
            expect((await merchant(app, owner, 'GET', `/merchant/webhooks/${id}/deliveries`)).statusCode).to.equal(404);

            const actions = await MerchantAction.findAll({ where: { targetType: 'webhook', targetId: id }, order: [['id', 'ASC']] });
            expect(actions.map((action) => action.action)).to.equal(['webhook.create', 'webhook.update', 'webhook.rotate_secret', 'webhook.delete']);
            expect(actions.every((action) => action.actorType === 'staff' && action.actorId === owner.id)).to.be.true();
        });

        it('refuses bad input with a 400 and stores nothing', async () => {
            receiver = await new Receiver().start();
            for (const payload of [
                { url: receiver.url, eventTypes: ['order.teleported'] },
                { url: receiver.url, eventTypes: [] },
                { url: receiver.url },
                { eventTypes: ['order.paid'] },
                { url: 'ftp://127.0.0.1/hooks', eventTypes: ['order.paid'] },
                { url: 'not a url', eventTypes: ['order.paid'] },
                { url: 'http://user:pw@127.0.0.1/hooks', eventTypes: ['order.paid'] },
                { url: `${receiver.url}#fragment`, eventTypes: ['order.paid'] },
                { url: receiver.url, eventTypes: ['order.paid'], secret: 'chosen-by-client' }
            ]) {
                const res = await merchant(app, owner, 'POST', '/merchant/webhooks', payload);
                expect(res.statusCode, JSON.stringify(payload)).to.equal(400);
            }

            expect(await WebhookEndpoint.count()).to.equal(0);
            const { id } = await registerEndpoint(app, owner, receiver.url);
            expect((await merchant(app, owner, 'PATCH', `/merchant/webhooks/${id}`, { url: 'gopher://127.0.0.1/' })).statusCode).to.equal(400);
            expect((await merchant(app, owner, 'PATCH', `/merchant/webhooks/${id}`, {})).statusCode).to.equal(400);
            expect((await WebhookEndpoint.findByPk(id))!.url).to.equal(receiver.url);
        });
    });

    describe('delivery', () => {

        it('POSTs {id, type, createdAt, data: {object}} signed as t=…,v1=HMAC-SHA256(secret, "t.body")', async () => {
            receiver = await new Receiver().start();
            const { id: endpointId, secret } = await registerEndpoint(app, owner, receiver.url);
            const { order } = await paidOrder(app);
            const event = await eventOf(order.id, 'order.paid');

            await runJobs(app);
            const [receipt] = receiver.ofEvent(event.publicId);
            expect(receiver.ofEvent(event.publicId)).to.have.length(1);
            expect(receipt.headers['content-type']).to.equal('application/json');
            expect(receipt.headers['wxshop-event-id']).to.equal(event.publicId);
            expect(receipt.headers['wxshop-event-type']).to.equal('order.paid');
            expect(Object.keys(receipt.body).sort()).to.equal(['createdAt', 'data', 'id', 'type']);
            expect(receipt.body).to.include({ id: event.publicId, type: 'order.paid', createdAt: event.createdAt.toISOString() });
            expect(receipt.body.data.object).to.include({ id: order.id, outTradeNo: order.outTradeNo, status: 'paid', totalFee: order.totalFee });

            // the signature, computed here with plain crypto
            const { t, v1 } = parseSignature(receipt.headers['wxshop-signature']);
            expect(Math.abs(Number(t) - receipt.receivedAt / 1000)).to.be.below(60);
            expect(v1).to.equal([expectedSignature(secret, t, receipt.rawBody)]);

            // and the exported helper
            const header = receipt.headers['wxshop-signature'];
            expect(verifyWebhook(receipt.rawBody, header, [secret])).to.equal({ valid: true, timestamp: Number(t) });
            expect(verifyWebhook(receipt.rawBody.replace('"paid"', '"unpaid"'), header, [secret])).to.include({ valid: false });
            expect(verifyWebhook(receipt.rawBody, header, ['whsec_another'])).to.include({ valid: false });
            expect(verifyWebhook(receipt.rawBody, header, [secret], 300, (Number(t) + 301) * 1000)).to.include({ valid: false });
            expect(verifyWebhook(receipt.rawBody, undefined, [secret])).to.include({ valid: false });
            expect(verifyWebhook(receipt.rawBody, `v1=${v1[0]}`, [secret])).to.include({ valid: false });

            const delivery = await deliveryOf(event.publicId, endpointId);
            expect(delivery.status).to.equal('succeeded');
            await runJobs(app);
            expect(receiver.ofEvent(event.publicId)).to.have.length(1);
        });

        it('reports closed and refund-required orders, only to endpoints subscribed to the type', async () => {
            receiver = await new Receiver().start();
            const other = await new Receiver().start();
            try {
                await registerEndpoint(app, owner, receiver.url, ['order.closed', 'order.refund_required']);
                await registerEndpoint(app, owner, other.url, ['order.paid']);
                const { user, order } = await unpaidOrder(app);
                expect((await json(app.server, { method: 'POST', url: `/orders/${order.id}/cancel`, headers: user.auth })).statusCode).to.equal(200);
                expect((await notifyPaid(app, { outTradeNo: order.outTradeNo, totalFee: order.totalFee, transactionId: newTransactionId() })).statusCode).to.equal(200);

                await runJobs(app);
                const types = receiver.receipts.filter((receipt) => receipt.body.data.object.id === order.id).map((receipt) => receipt.body.type).sort();
                expect(types).to.equal(['order.closed', 'order.refund_required']);
                const closed = receiver.receipts.find((receipt) => receipt.body.type === 'order.closed')!;
                expect(closed.body.data.object).to.include({ status: 'closed', refundRequired: true });
                expect(other.receipts.filter((receipt) => receipt.body.data.object.id === order.id)).to.have.length(0);
            }
            finally {
                await other.stop();
            }
        });

        it('counts any 2xx as delivered and anything else as a failure to retry; the log shows each attempt', async () => {
            receiver = await new Receiver().start();
            const { id: endpointId } = await registerEndpoint(app, owner, receiver.url);
            const statuses = [200, 201, 204, 299, 302, 404, 500];
            const byEvent = new Map<string, number>();
            receiver.answer = (receipt) => ({ status: byEvent.get(receipt.body.id)!, body: `answer ${byEvent.get(receipt.body.id)}` });
            for (const status of statuses) {
                const { order } = await paidOrder(app);
                byEvent.set((await eventOf(order.id, 'order.paid')).publicId, status);
            }

            const now = new Date();
            await runJobs(app, now);
            for (const [eventId, status] of byEvent) {
                const delivery = await deliveryOf(eventId, endpointId);
                expect(receiver.ofEvent(eventId), String(status)).to.have.length(1);
                expect(delivery.status, String(status)).to.equal(status < 300 ? 'succeeded' : 'pending');
                expect(delivery.nextAttemptAt === null, String(status)).to.equal(status < 300);
            }

            const log = await deliveriesOf(app, owner, endpointId);
            expect(log.statusCode).to.equal(200);
            expect(log.body.totalCount).to.equal(statuses.length);
            for (const delivery of log.body.results) {
                const status = byEvent.get(delivery.eventId)!;
                expect(delivery.attempts).to.have.length(1);
                expect(delivery.attempts[0]).to.include({ statusCode: status, succeeded: status < 300, responseSnippet: status === 204 ? '' : `answer ${status}`, error: null });
                expect(delivery.attempts[0].latencyMs).to.be.a.number();
                expect(new Date(delivery.attempts[0].attemptedAt).getTime()).to.equal(now.getTime());
            }
        });

        it('retries with exponential backoff and jitter for at least 3 days, then gives up', async () => {
            receiver = await new Receiver().start();
            receiver.answer = () => ({ status: 503, body: 'busy' });
            const { id: endpointId } = await registerEndpoint(app, owner, receiver.url);
            const { order } = await paidOrder(app);
            const eventId = (await eventOf(order.id, 'order.paid')).publicId;
            // keeps the endpoint from being disabled meanwhile: that is the next test
            const context = withWebhooks(app, { disableAfterSeconds: 30 * 86400 });

            const start = new Date();
            const logs: string[] = [];
            await runWebhookJobs(context, start, (message) => logs.push(message));
            let delivery = await deliveryOf(eventId, endpointId);
            const attemptTimes = [start.getTime()];
            while (delivery.status === 'pending') {
                const due = delivery.nextAttemptAt!.getTime();
                const delay = due - attemptTimes[attemptTimes.length - 1];
                const ceiling = Math.min(6 * 3600_000, 30_000 * 2 ** (attemptTimes.length - 1));
                expect(delay).to.be.within(ceiling / 2, ceiling);

                // not yet due: nothing is sent
                const before = receiver.receipts.length;
                await runWebhookJobs(context, new Date(due - 1000), (message) => logs.push(message));
                expect(receiver.receipts.length).to.equal(before);

                await runWebhookJobs(context, new Date(due), (message) => logs.push(message));
                expect(receiver.receipts.length).to.equal(before + 1);
                attemptTimes.push(due);
                delivery = await deliveryOf(eventId, endpointId);
                expect(attemptTimes.length).to.be.below(100);
            }

            expect(delivery.status).to.equal('failed');
            expect(attemptTimes[attemptTimes.length - 1] - start.getTime()).to.be.at.least(3 * day);
            expect(attemptTimes[attemptTimes.length - 2] - start.getTime()).to.be.below(3 * day);
            expect(delivery.attempts).to.equal(attemptTimes.length);
            expect(await WebhookAttempt.count({ where: { deliveryId: delivery.id } })).to.equal(attemptTimes.length);
            expect(receiver.ofEvent(eventId)).to.have.length(attemptTimes.length);
            expect(new Set(receiver.ofEvent(eventId).map((receipt) => receipt.rawBody)).size).to.equal(1);
            expect(logs.some((line) => line.includes(`${eventId}`) && line.includes('failed for good'))).to.be.true();
        });

        it('disables an endpoint that has failed for the configured time, says so in the log and the audit, and an owner re-enables it', async () => {
            receiver = await new Receiver().start();
            receiver.answer = () => ({ status: 500 });
            const { id: endpointId } = await registerEndpoint(app, owner, receiver.url);
            const context = withWebhooks(app, { disableAfterSeconds: 86400 });
            const logs: string[] = [];

            const start = new Date();
            const { order } = await paidOrder(app);
            const eventId = (await eventOf(order.id, 'order.paid')).publicId;
            await runWebhookJobs(context, start, (message) => logs.push(message));
            expect((await WebhookEndpoint.findByPk(endpointId))!.failingSince!.getTime()).to.equal(start.getTime());

            let now = start;
            while ((await WebhookEndpoint.findByPk(endpointId))!.enabled) {
                expect(now.getTime() - start.getTime()).to.be.below(day + 7 * 3600_000);
                now = (await deliveryOf(eventId, endpointId)).nextAttemptAt!;
                await runWebhookJobs(context, now, (message) => logs.push(message));
            }

            expect(now.getTime() - start.getTime()).to.be.at.least(day);
            const endpoint = (await WebhookEndpoint.findByPk(endpointId))!;
            expect(endpoint.disabledReason).to.contain('failed since');
            expect(logs.some((line) => line.includes(`webhook endpoint ${endpointId}`) && line.includes('disabled'))).to.be.true();
            const [action] = await MerchantAction.findAll({ where: { action: 'webhook.disable', targetId: endpointId } });
            expect(action.toJSON()).to.include({ actorType: 'system', targetType: 'webhook' });

            // a disabled endpoint is not called, and a redelivery to it is refused
            const sent = receiver.receipts.length;
            const delivery = await deliveryOf(eventId, endpointId);
            await runWebhookJobs(context, new Date(now.getTime() + 7 * day), () => {});
            expect(receiver.receipts.length).to.equal(sent);
            expect((await merchant(app, owner, 'POST', `/merchant/webhooks/deliveries/${delivery.id}/redeliver`)).statusCode).to.equal(409);

            const enabled = await merchant(app, owner, 'PATCH', `/merchant/webhooks/${endpointId}`, { enabled: true });
            expect(enabled.body).to.include({ enabled: true, failingSince: null, disabledReason: null });
            receiver.answer = () => ({ status: 200 });
            await runWebhookJobs(context, new Date(now.getTime() + 7 * day), () => {});
            expect(receiver.receipts.length).to.equal(sent + 1);
        });

        it('gives up an attempt that gets no answer within the timeout, and tries again later', async () => {
            receiver = await new Receiver().start();
            receiver.answer = () => 'hang';
            const { id: endpointId } = await registerEndpoint(app, owner, receiver.url);
            const { order } = await paidOrder(app);
            const eventId = (await eventOf(order.id, 'order.paid')).publicId;

            await runWebhookJobs(withWebhooks(app, { attemptTimeoutMs: 300 }), new Date(), () => {});
            expect(receiver.ofEvent(eventId)).to.have.length(1);
            const delivery = await deliveryOf(eventId, endpointId);
            expect(delivery.status).to.equal('pending');
            const [attempt] = await WebhookAttempt.findAll({ where: { deliveryId: delivery.id } });
            expect(attempt.toJSON()).to.include({ succeeded: false, statusCode: null, error: 'no answer within 300 ms' });
            expect(attempt.latencyMs).to.be.at.least(290);
            expect(delivery.nextAttemptAt!.getTime()).to.be.above(delivery.lastAttemptAt!.getTime());
        });

        it('signs with both secrets during a rotation overlap, and with the new one only after it', async () => {
            receiver = await new Receiver().start();
            const { id: endpointId, secret: old } = await registerEndpoint(app, owner, receiver.url);
            const rotated = await merchant(app, owner, 'POST', `/merchant/webhooks/${endpointId}/rotate-secret`);
            const fresh = rotated.body.secret as string;
            const overlapEnds = new Date(rotated.body.previousSecretExpiresAt);

            const first = await paidOrder(app);
            await runJobs(app);
            const [during] = receiver.ofEvent((await eventOf(first.order.id, 'order.paid')).publicId);
            const signed = parseSignature(during.headers['wxshop-signature']);
            expect(signed.v1).to.equal([expectedSignature(fresh, signed.t, during.rawBody), expectedSignature(old, signed.t, during.rawBody)]);
            expect(verifyWebhook(during.rawBody, during.headers['wxshop-signature'], [old]).valid).to.be.true();
            expect(verifyWebhook(during.rawBody, during.headers['wxshop-signature'], [fresh]).valid).to.be.true();

            const second = await paidOrder(app);
            await runJobs(app, new Date(overlapEnds.getTime() + 1000));
            const [afterwards] = receiver.ofEvent((await eventOf(second.order.id, 'order.paid')).publicId);
            const resigned = parseSignature(afterwards.headers['wxshop-signature']);
            expect(resigned.v1).to.equal([expectedSignature(fresh, resigned.t, afterwards.rawBody)]);
            expect(verifyWebhook(afterwards.rawBody, afterwards.headers['wxshop-signature'], [old]).valid).to.be.false();
            expect(verifyWebhook(afterwards.rawBody, afterwards.headers['wxshop-signature'], [old, fresh]).valid).to.be.true();
        });

        it('rotates without an overlap when the overlap is 0: the old secret stops signing at once', async () => {
            receiver = await new Receiver().start();
            const { id: endpointId, secret: old } = await registerEndpoint(app, owner, receiver.url);
            const rotated = await rotateSecret(app.context.models, app.context.sequelize, { ...app.config.webhooks, secretOverlapSeconds: 0 }, { type: 'staff', id: owner.id }, endpointId);
            expect(rotated!.endpoint.previousSecretExpiresAt).to.be.null();
            const { order } = await paidOrder(app);
            await runJobs(app);
            const [receipt] = receiver.ofEvent((await eventOf(order.id, 'order.paid')).publicId);
            expect(parseSignature(receipt.headers['wxshop-signature']).v1).to.equal([expectedSignature(rotated!.secret, parseSignature(receipt.headers['wxshop-signature']).t, receipt.rawBody)]);
            expect(verifyWebhook(receipt.rawBody, receipt.headers['wxshop-signature'], [old]).valid).to.be.false();
        });

        it('redelivers an event on request: the same id and body again, as a new delivery in the log', async () => {
            receiver = await new Receiver().start();
            const { id: endpointId } = await registerEndpoint(app, owner, receiver.url);
            const { order } = await paidOrder(app);
            const eventId = (await eventOf(order.id, 'order.paid')).publicId;
            await runJobs(app);
            const delivery = await deliveryOf(eventId, endpointId);
            expect(delivery.status).to.equal('succeeded');

            const operator = await staffLogin(app, 'operator');
            expect((await merchant(app, operator, 'POST', `/merchant/webhooks/deliveries/${delivery.id}/redeliver`)).statusCode).to.equal(403);
            expect((await merchant(app, owner, 'POST', '/merchant/webhooks/deliveries/2147483647/redeliver')).statusCode).to.equal(404);
            const again = await merchant(app, owner, 'POST', `/merchant/webhooks/deliveries/${delivery.id}/redeliver`);
            expect(again.statusCode).to.equal(202);
            expect(again.body).to.include({ eventId, status: 'pending', endpointId });
            expect(again.body.id).to.not.equal(delivery.id);

            await runJobs(app);
            const receipts = receiver.ofEvent(eventId);
            expect(receipts).to.have.length(2);
            expect(receipts[1].rawBody).to.equal(receipts[0].rawBody);
            const log = await deliveriesOf(app, owner, endpointId);
            expect(log.body.results.map((row: any) => [row.id, row.status])).to.equal([[again.body.id, 'succeeded'], [delivery.id, 'succeeded']]);
        });
    });

    describe('outbox', () => {

        it('writes no event for a change that is rolled back', async () => {
            const { order } = await unpaidOrder(app);
            const sequelize = app.context.sequelize;
            await expect(sequelize.transaction(async (transaction) => {
                expect(await transition(order.id, 'unpaid', 'closed', { closedAt: new Date() }, transaction)).to.be.true();
                expect(await WebhookEvent.count({ where: { orderId: order.id }, transaction })).to.equal(1);
                throw new Error('rolled back on purpose');
            })).to.reject('rolled back on purpose');
            expect(await WebhookEvent.count({ where: { orderId: order.id } })).to.equal(0);
            expect((await app.context.models.Order.findByPk(order.id))!.status).to.equal('unpaid');

            // a payment whose transaction_id already paid another order is rolled back whole: no order.paid for it
            const paid = await paidOrder(app);
            const reusedTransaction = (await app.context.models.Order.findByPk(paid.order.id))!.transactionId!;
            const victim = await unpaidOrder(app);
            const res = await notifyPaid(app, { outTradeNo: victim.order.outTradeNo, totalFee: victim.order.totalFee, transactionId: reusedTransaction });
            expect(res.statusCode).to.equal(400);
            expect((await app.context.models.Order.findByPk(victim.order.id))!.status).to.equal('unpaid');
            expect(await WebhookEvent.count({ where: { orderId: victim.order.id } })).to.equal(0);
        });

        it('writes exactly one event for every reported change, in its transaction', async () => {
            const paid = [await paidOrder(app), await paidOrder(app)];
            const cancelled = await unpaidOrder(app);
            await json(app.server, { method: 'POST', url: `/orders/${cancelled.order.id}/cancel`, headers: cancelled.user.auth });
            const ids = [...paid.map((made) => made.order.id), cancelled.order.id];

            const history = await app.context.models.Order.sequelize!.query<{ order_id: number; from_status: string | null; to_status: string }>(
                `SELECT order_id, from_status, to_status FROM order_events WHERE order_id IN (${ids.join(',')}) ORDER BY id`, { type: 'SELECT' as any });
            const expected = history.filter((row) => row.from_status !== null)
                .map((row) => ({ orderId: Number(row.order_id), type: row.to_status === 'paid' ? 'order.paid' : row.to_status === 'closed' ? 'order.closed' : 'unexpected' }));
            expect(expected).to.have.length(3);
            const events = (await WebhookEvent.findAll({ where: { orderId: ids }, order: [['id', 'ASC']] })).map((event) => ({ orderId: event.orderId, type: event.type }));
            expect(events).to.equal(expected);
        });
    });
});
