import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { recordAnomaly } from '../lib/payments/anomalies';
import { MerchantAction } from '../models/merchant';
import { Refund, RefundRequest } from '../models';
import { getOrder, json, sim, TestApp } from './helpers';
import { apiKey, merchant, StaffLogin, staffLogin } from './merchant-helpers';
import { eventuallyRefund, orderRow, paidOrder, startRefundApp } from './refund-support';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('merchant refunds, after-sales requests and payment anomalies', () => {

    let app: TestApp;
    let owner: StaffLogin;
    let finance: StaffLogin;
    let operator: StaffLogin;
    before(async () => {
        app = await startRefundApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
        [owner, finance, operator] = [await staffLogin(app, 'owner'), await staffLogin(app, 'finance'), await staffLogin(app, 'operator')];
    });
    after(() => app.stop());

    const actionsOn = async (targetType: string, targetId: number) => (await MerchantAction.findAll({ where: { targetType, targetId }, order: [['id', 'ASC']] })).map((row) => row.get({ plain: true }));

    describe('POST /merchant/orders/{id}/refunds', () => {

        it('refunds part of a paid order for finance: 201, processing, audited, shown on the order detail with its events', async () => {
            const { order } = await paidOrder(app, { price: 3000 });
            const res = await merchant(app, finance, 'POST', `/merchant/orders/${order.id}/refunds`, { amount: 1000, reason: 'one cup broke' });
            expect(res.statusCode).to.equal(201);
            expect(res.body).to.include({ amount: 1000, status: 'processing', orderId: order.id });
            expect(res.body.outRefundNo).to.match(/^R\d{14}[0-9A-Za-z]{16}$/);
            expect(res.headers['idempotent-replayed']).to.not.exist();

            const [action] = await actionsOn('order', order.id);
            expect(action).to.include({ actorType: 'staff', actorId: finance.id, action: 'refund.create' });
            expect(JSON.parse(action.details)).to.include({ refundId: res.body.id, amount: 1000 });

            const succeeded = await eventuallyRefund(res.body.id, 'succeeded');
            expect(succeeded.amount).to.equal(1000);
            const detail = await merchant(app, owner, 'GET', `/merchant/orders/${order.id}`);
            expect(detail.statusCode).to.equal(200);
            expect(detail.body.refunds.map((r: any) => [r.id, r.status])).to.equal([[res.body.id, 'succeeded']]);
            expect(detail.body.refundedFee).to.equal(1000);
            expect(detail.body.status).to.equal('paid');
            expect(detail.body.events.map((e: any) => [e.from, e.to])).to.equal([[null, 'unpaid'], ['unpaid', 'paid'], ['paid', 'refunding'], ['refunding', 'paid']]);
            expect(detail.body.events[1].actor.kind).to.equal('wechat');
            expect(detail.body.events[0].actor).to.equal({ kind: 'buyer', id: String(detail.body.userId) });

            const list = await merchant(app, operator, 'GET', `/merchant/orders/${order.id}/refunds`);
            expect(list.statusCode).to.equal(200);
            expect(list.body.map((r: any) => r.id)).to.equal([res.body.id]);
        });

        it('answers a retry with the same Idempotency-Key with the same refund and Idempotent-Replayed: true; another body is a 409', async () => {
            const { order } = await paidOrder(app, { price: 2000 });
            const key = `refund-${Crypto.randomBytes(6).toString('hex')}`;
            const send = (amount: number) => json(app.server, {
                method: 'POST', url: `/merchant/orders/${order.id}/refunds`, headers: { ...owner.auth, 'idempotency-key': key }, payload: { amount, reason: 'late delivery' }
            });
            const first = await send(500);
            const again = await send(500);
            expect(first.statusCode).to.equal(201);
            expect(again.statusCode).to.equal(201);
            expect(again.headers['idempotent-replayed']).to.equal('true');
            expect(again.body.id).to.equal(first.body.id);
            expect((await send(600)).statusCode).to.equal(409);
            expect(await Refund.count({ where: { orderId: order.id } })).to.equal(1);
            expect((await actionsOn('order', order.id)).length).to.equal(1);
        });

        it('admits owner, finance and a refunds:write key; an operator or an orders:read key is a 403 and nothing is written', async () => {
            const { order } = await paidOrder(app, { price: 900 });
            const writer = await apiKey(app, owner, ['refunds:write']);
            const reader = await apiKey(app, owner, ['orders:read']);
            expect((await merchant(app, operator, 'POST', `/merchant/orders/${order.id}/refunds`, { amount: 100, reason: 'x' })).statusCode).to.equal(403);
            expect((await merchant(app, reader, 'POST', `/merchant/orders/${order.id}/refunds`, { amount: 100, reason: 'x' })).statusCode).to.equal(403);
            expect(await Refund.count({ where: { orderId: order.id } })).to.equal(0);
            const byKey = await merchant(app, writer, 'POST', `/merchant/orders/${order.id}/refunds`, { amount: 100, reason: 'x' });
            expect(byKey.statusCode).to.equal(201);
            expect(byKey.body.requestedBy).to.equal({ kind: 'api_key', id: String(writer.id) });
            const [action] = await actionsOn('order', order.id);
            expect(action).to.include({ actorType: 'api_key', actorId: writer.id });
        });

        it('refuses bad input with a 4xx and writes nothing: no amount, a float, too much, an unpaid or unknown order, a buyer token', async () => {
            const { user, order } = await paidOrder(app, { price: 800 });
            for (const payload of [{ reason: 'x' }, { amount: 1.5, reason: 'x' }, { amount: 100 }, { amount: 100, reason: '' }, { amount: 0, reason: 'x' }]) {
                expect((await merchant(app, owner, 'POST', `/merchant/orders/${order.id}/refunds`, payload)).statusCode).to.equal(400);
            }

            const tooMuch = await merchant(app, owner, 'POST', `/merchant/orders/${order.id}/refunds`, { amount: 801, reason: 'x' });
            expect(tooMuch.statusCode).to.equal(409);
            expect(tooMuch.body.message).to.contain('800 fen still refundable');
            expect((await merchant(app, owner, 'POST', '/merchant/orders/999999/refunds', { amount: 1, reason: 'x' })).statusCode).to.equal(404);
            expect((await merchant(app, owner, 'GET', '/merchant/orders/999999/refunds')).statusCode).to.equal(404);
            expect((await merchant(app, user, 'POST', `/merchant/orders/${order.id}/refunds`, { amount: 1, reason: 'x' })).statusCode).to.equal(401);
            expect(await Refund.count({ where: { orderId: order.id } })).to.equal(0);
            expect((await orderRow(order.id)).refundReservedFee).to.equal(0);
        });
    });

    describe('buyers\' after-sales requests', () => {

        const ask = (who: { auth: { authorization: string } }, orderId: number, payload: object) =>
            json(app.server, { method: 'POST', url: `/orders/${orderId}/refund-requests`, headers: who.auth, payload });

        it('a buyer asks (amount defaults to what is refundable), the merchant approves: a refund by the staff member, the buyer sees it approved', async () => {
            const { user, order } = await paidOrder(app, { price: 1500 });
            const asked = await ask(user, order.id, { reason: 'wrong size' });
            expect(asked.statusCode).to.equal(201);
            expect(asked.body).to.include({ status: 'open', amount: 1500, reason: 'wrong size', refundId: null });
            expect((await ask(user, order.id, { reason: 'again' })).statusCode).to.equal(409);

            const open = await merchant(app, finance, 'GET', '/merchant/refund-requests?status=open&limit=100');
            expect(open.statusCode).to.equal(200);
            expect(open.body.results.map((r: any) => r.id)).to.include(asked.body.id);

            const approved = await merchant(app, finance, 'POST', `/merchant/refund-requests/${asked.body.id}/approve`);
            expect(approved.statusCode).to.equal(200);
            expect(approved.body.status).to.equal('approved');
            const refund = (await Refund.findByPk(approved.body.refundId))!.get({ plain: true });
            expect(refund).to.include({ amount: 1500, reason: 'wrong size', actorKind: 'staff', actorId: String(finance.id) });
            expect((await merchant(app, finance, 'POST', `/merchant/refund-requests/${asked.body.id}/approve`)).statusCode).to.equal(409);
            expect((await merchant(app, finance, 'POST', `/merchant/refund-requests/${asked.body.id}/reject`, { reason: 'no' })).statusCode).to.equal(409);
            expect(await Refund.count({ where: { orderId: order.id } })).to.equal(1);
            expect((await actionsOn('refund_request', asked.body.id)).map((a) => a.action)).to.equal(['refund_request.approve', 'refund_request.approved']);
            expect((await actionsOn('order', order.id)).map((a) => [a.action, a.actorId])).to.equal([['refund.create', finance.id]]);

            await eventuallyRefund(refund.id, 'succeeded');
            const seen = await getOrder(app, user, order.id);
            expect(seen.body.status).to.equal('refunded');
            expect(seen.body.refundedFee).to.equal(1500);
            expect(seen.body.refundRequests).to.have.length(1);
            expect(seen.body.refundRequests[0]).to.include({ status: 'approved', refundId: refund.id });
        });

        it('the merchant rejects with a reason the buyer sees; then the buyer may ask again', async () => {
            const { user, order } = await paidOrder(app, { price: 1200 });
            const asked = await ask(user, order.id, { reason: 'changed my mind', amount: 200 });
            expect(asked.body.amount).to.equal(200);
            expect((await merchant(app, operator, 'POST', `/merchant/refund-requests/${asked.body.id}/reject`, { reason: 'no' })).statusCode).to.equal(403);
            expect((await merchant(app, owner, 'POST', `/merchant/refund-requests/${asked.body.id}/reject`, {})).statusCode).to.equal(400);
            const rejected = await merchant(app, owner, 'POST', `/merchant/refund-requests/${asked.body.id}/reject`, { reason: 'opened and used' });
            expect(rejected.statusCode).to.equal(200);
            expect(rejected.body).to.include({ status: 'rejected', rejection: 'opened and used' });
            const seen = await getOrder(app, user, order.id);
            expect(seen.body.refundRequests.map((r: any) => [r.status, r.rejection])).to.equal([['rejected', 'opened and used']]);
            expect(await Refund.count({ where: { orderId: order.id } })).to.equal(0);
            expect((await actionsOn('refund_request', asked.body.id)).map((a) => [a.action, a.actorId])).to.equal([['refund_request.reject', owner.id]]);
            expect((await ask(user, order.id, { reason: 'please' })).statusCode).to.equal(201);
        });

        it('refuses with a 4xx and writes nothing: another buyer\'s order, an unpaid order, too much, a bad reason, a staff token', async () => {
            const { user, order } = await paidOrder(app, { price: 700 });
            const other = await paidOrder(app, { price: 700 });
            const before = await RefundRequest.count();
            expect((await ask(other.user, order.id, { reason: 'mine?' })).statusCode).to.equal(404);
            expect((await ask(user, order.id, { reason: 'x', amount: 701 })).statusCode).to.equal(409);
            expect((await ask(user, order.id, { reason: 'x', amount: 0 })).statusCode).to.equal(400);
            expect((await ask(user, order.id, { reason: '' })).statusCode).to.equal(400);
            expect((await ask(user, order.id, { reason: '退'.repeat(27) })).statusCode).to.equal(400);
            expect((await ask(user, order.id, { reason: 'x', status: 'approved' })).statusCode).to.equal(400);
            expect((await ask(owner, order.id, { reason: 'x' })).statusCode).to.equal(401);
            const unpaid = await json(app.server, { method: 'POST', url: '/orders', headers: user.auth, payload: { goodsList: [{ goodsId: other.goodsId, count: 1 }] } });
            expect((await ask(user, unpaid.body.id, { reason: 'x' })).statusCode).to.equal(409);
            expect(await RefundRequest.count()).to.equal(before);
        });

        it('two requests at once for one order make one', async () => {
            const { user, order } = await paidOrder(app, { price: 600 });
            const answers = await Promise.all([ask(user, order.id, { reason: 'a' }), ask(user, order.id, { reason: 'b' })]);
            expect(answers.map((a) => a.statusCode).sort()).to.equal([201, 409]);
            expect(await RefundRequest.count({ where: { orderId: order.id } })).to.equal(1);
        });

        it('two approvals and a rejection at once: one decision, at most one refund, matching it', async () => {
            for (let round = 0; round < 3; ++round) {
                const { user, order } = await paidOrder(app, { price: 500 });
                const asked = await ask(user, order.id, { reason: 'race' });
                const url = `/merchant/refund-requests/${asked.body.id}`;
                const answers = await Promise.all([
                    merchant(app, owner, 'POST', `${url}/approve`),
                    merchant(app, finance, 'POST', `${url}/approve`),
                    merchant(app, owner, 'POST', `${url}/reject`, { reason: 'no' })
                ]);
                expect(answers.every((a) => a.statusCode === 200 || a.statusCode === 409)).to.be.true();
                const decided = (await RefundRequest.findByPk(asked.body.id))!;
                const refunds = await Refund.count({ where: { orderId: order.id } });
                expect(decided.status).to.not.equal('open');
                expect(refunds).to.equal(decided.status === 'approved' ? 1 : 0);
                expect(answers.filter((a) => a.statusCode === 200).every((a) => a.body.status === decided.status)).to.be.true();
            }
        });

        it('an approval the refund service refuses leaves the request open', async () => {
            const { user, order } = await paidOrder(app, { price: 1000 });
            const asked = await ask(user, order.id, { reason: 'all of it' });
            expect((await merchant(app, owner, 'POST', `/merchant/orders/${order.id}/refunds`, { amount: 400, reason: 'merchant first' })).statusCode).to.equal(201);
            const approve = await merchant(app, owner, 'POST', `/merchant/refund-requests/${asked.body.id}/approve`);
            expect(approve.statusCode).to.equal(409);
            expect(approve.body.message).to.contain('600 fen still refundable');
            expect((await RefundRequest.findByPk(asked.body.id))!.status).to.equal('open');
            expect((await merchant(app, owner, 'POST', '/merchant/refund-requests/999999/approve')).statusCode).to.equal(404);
        });
    });

    describe('payment anomalies', () => {

        const anomaly = (totalFee: number) => recordAnomaly({
            kind: 'unknown_order',
            source: 'notify',
            reason: 'no order has this out_trade_no',
            trade: { outTradeNo: `X${Crypto.randomBytes(8).toString('hex')}`, transactionId: `42${Crypto.randomInt(1e9, 9e9)}${Crypto.randomInt(1e9, 9e9)}`, totalFee, raw: {} } as any
        });

        it('lists them (resolved or not) for owner and finance, and resolves one once, audited', async () => {
            const made = await anomaly(321);
            const unresolved = await merchant(app, finance, 'GET', '/merchant/payment-anomalies?resolved=false&limit=100');
            expect(unresolved.statusCode).to.equal(200);
            expect(unresolved.body.results.find((a: any) => a.id === made.id)).to.include({ totalFee: 321, resolvedAt: null });
            expect((await merchant(app, operator, 'GET', '/merchant/payment-anomalies')).statusCode).to.equal(403);
            expect((await merchant(app, operator, 'POST', `/merchant/payment-anomalies/${made.id}/resolve`, { resolution: 'x' })).statusCode).to.equal(403);
            expect((await merchant(app, owner, 'POST', `/merchant/payment-anomalies/${made.id}/resolve`, {})).statusCode).to.equal(400);

            const resolved = await merchant(app, owner, 'POST', `/merchant/payment-anomalies/${made.id}/resolve`, { resolution: 'refunded by hand in the merchant platform' });
            expect(resolved.statusCode).to.equal(200);
            expect(resolved.body.resolution).to.equal('refunded by hand in the merchant platform');
            expect(resolved.body.resolvedAt).to.exist();
            const again = await merchant(app, owner, 'POST', `/merchant/payment-anomalies/${made.id}/resolve`, { resolution: 'other' });
            expect(again.statusCode).to.equal(409);
            expect((await merchant(app, owner, 'POST', '/merchant/payment-anomalies/999999/resolve', { resolution: 'x' })).statusCode).to.equal(404);
            expect((await actionsOn('payment_anomaly', made.id)).map((a) => [a.action, a.actorId])).to.equal([['payment_anomaly.resolve', owner.id]]);

            const onlyResolved = await merchant(app, finance, 'GET', '/merchant/payment-anomalies?resolved=true&limit=100');
            expect(onlyResolved.body.results.map((a: any) => a.id)).to.include(made.id);
            expect(onlyResolved.body.results.every((a: any) => a.resolvedAt !== null)).to.be.true();
            const stillOpen = await merchant(app, finance, 'GET', '/merchant/payment-anomalies?resolved=false&limit=100');
            expect(stillOpen.body.results.map((a: any) => a.id)).to.not.include(made.id);
        });
    });
});
