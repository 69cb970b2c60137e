import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { applyQueriedPayment } from '../lib/orders/payments';
import { countUnresolvedAnomalies, listAnomalies } from '../lib/payments/anomalies';
import { formatBeijingCompact } from '../lib/wechatpay/time';
import { Order, PaymentAnomaly } from '../models';
import { merchantOf, newTransactionId, notifyPaid } from './signed-notify';
import { getOrder, pay, sim, startApp, TestApp, unpaidOrder } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('payment anomalies: genuine payments that match no order', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
    });
    after(() => app.stop());

    const anomaliesOf = async (transactionId: string) => (await PaymentAnomaly.findAll({ where: { transactionId }, order: [['id', 'ASC']] })).map((row) => row.get({ plain: true }));
    const statusOf = async (orderId: number) => (await Order.findByPk(orderId))!.status;

    /** A trade the merchant's key placed at the simulator (not through wxshop), paid by the phone, its notification dropped. */
    const paidElsewhere = async (outTradeNo: string, totalFee: number) => {
        const placed = await app.context.pay.unifiedOrder({
            outTradeNo, totalFee, body: 'elsewhere', tradeType: 'NATIVE', productId: 'p1', clientIp: '127.0.0.1',
            notifyUrl: app.context.notifyUrl(), timeExpire: formatBeijingCompact(new Date(Date.now() + 15 * 60_000))
        });
        expect((await sim(app, 'notify-faults', { mode: 'drop' })).statusCode).to.equal(204);
        const paid = await sim(app, 'pay', { codeUrl: placed.codeUrl });
        expect(paid.statusCode).to.equal(200);
        return paid.body.transactionId as string;
    };

    describe('through the notify route, correctly signed', () => {

        it('an unknown out_trade_no: FAIL, kept once however often WeChat retries', async () => {
            const before = await countUnresolvedAnomalies();
            const transactionId = newTransactionId();
            const trade = { outTradeNo: `UNKNOWN${Crypto.randomBytes(8).toString('hex')}`, totalFee: 1234, transactionId };
            for (let attempt = 0; attempt < 3; ++attempt) {
                const res = await notifyPaid(app, trade);
                expect(res.statusCode).to.equal(400);
                expect(res.payload).to.contain('FAIL');
            }

            const [anomaly, ...more] = await anomaliesOf(transactionId);
            expect(more).to.have.length(0);
            expect(anomaly).to.include({ kind: 'unknown_order', source: 'notify', totalFee: 1234, orderId: null, orderTotalFee: null, resolvedAt: null });
            expect(JSON.parse(anomaly.raw).transaction_id).to.equal(transactionId);
            expect(await countUnresolvedAnomalies()).to.equal(before + 1);
        });

        it('one row for many deliveries of it at once', async () => {
            const transactionId = newTransactionId();
            const trade = { outTradeNo: `BURST${Crypto.randomBytes(8).toString('hex')}`, totalFee: 99, transactionId };
            const results = await Promise.all(Array.from({ length: 12 }, () => notifyPaid(app, trade)));
            expect(results.map((res) => res.statusCode)).to.equal(Array(12).fill(400));
            expect(await anomaliesOf(transactionId)).to.have.length(1);
        });

        it('a wrong total: FAIL, the order stays unpaid, kept with both amounts', async () => {
            const { order } = await unpaidOrder(app, { price: 5000 });
            const transactionId = newTransactionId();
            expect((await notifyPaid(app, { outTradeNo: order.outTradeNo, totalFee: 4999, transactionId })).statusCode).to.equal(400);
            expect(await statusOf(order.id)).to.equal('unpaid');
            const [anomaly] = await anomaliesOf(transactionId);
            expect(anomaly).to.include({ kind: 'amount_mismatch', source: 'notify', outTradeNo: order.outTradeNo, totalFee: 4999, orderId: order.id, orderTotalFee: 5000 });
        });

        it('a transaction_id that already paid another order: FAIL, the second order stays unpaid', async () => {
            const first = await unpaidOrder(app, { price: 700 });
            const second = await unpaidOrder(app, { price: 700 });
            const transactionId = newTransactionId();
            expect((await notifyPaid(app, { outTradeNo: first.order.outTradeNo, totalFee: 700, transactionId })).statusCode).to.equal(200);
            const reused = { outTradeNo: second.order.outTradeNo, totalFee: 700, transactionId };
            expect((await notifyPaid(app, reused)).statusCode).to.equal(400);
            expect((await notifyPaid(app, reused)).statusCode).to.equal(400);
            expect(await statusOf(first.order.id)).to.equal('paid');
            expect(await statusOf(second.order.id)).to.equal('unpaid');
            const anomalies = await anomaliesOf(transactionId);
            expect(anomalies).to.have.length(1);
            expect(anomalies[0]).to.include({ kind: 'transaction_reused', source: 'notify', outTradeNo: second.order.outTradeNo, orderId: second.order.id });
            expect(anomalies[0].reason).to.contain(`order ${first.order.id}`);
        });

        it('a payment to another appid or mch_id is not ours, so not an anomaly: nothing kept', async () => {
            const { order } = await unpaidOrder(app, { price: 300 });
            const before = await PaymentAnomaly.count();
            const transactionIds = [newTransactionId(), newTransactionId()];
            const others = [{ ...merchantOf(app), appId: 'wx0000000000000000' }, { ...merchantOf(app), mchId: '1900000001' }];
            for (const [index, other] of others.entries()) {
                expect((await notifyPaid(app, { outTradeNo: order.outTradeNo, totalFee: 300, transactionId: transactionIds[index] }, other)).statusCode).to.equal(400);
            }

            expect(await PaymentAnomaly.count()).to.equal(before);
            expect(await statusOf(order.id)).to.equal('unpaid');
        });
    });

    describe('through orderquery', () => {

        it('an unknown out_trade_no that WeChat reports paid', async () => {
            const outTradeNo = `ELSEWHERE${Crypto.randomBytes(8).toString('hex')}`;
            const transactionId = await paidElsewhere(outTradeNo, 810);
            const { state, payment } = await applyQueriedPayment(app.context, outTradeNo);
            expect(state).to.equal('SUCCESS');
            expect(payment!.outcome).to.equal('rejected');
            await applyQueriedPayment(app.context, outTradeNo);
            const anomalies = await anomaliesOf(transactionId);
            expect(anomalies).to.have.length(1);
            expect(anomalies[0]).to.include({ kind: 'unknown_order', source: 'query', outTradeNo, totalFee: 810, orderId: null });
        });

        it('a trade of our out_trade_no whose total is not the order\'s', async () => {
            const { user, order } = await unpaidOrder(app, { price: 2500 });
            const transactionId = await paidElsewhere(order.outTradeNo, 1);
            expect((await pay(app, user, order.id)).statusCode).to.not.equal(200);      // WeChat has this out_trade_no, paid
            const { payment } = await applyQueriedPayment(app.context, order.outTradeNo);
            expect(payment!.outcome).to.equal('rejected');
            expect(await statusOf(order.id)).to.equal('unpaid');
            const [anomaly] = await anomaliesOf(transactionId);
            expect(anomaly).to.include({ kind: 'amount_mismatch', source: 'query', totalFee: 1, orderId: order.id, orderTotalFee: 2500 });
        });

        it('a transaction_id that already paid another order, found by GET /orders/{id}?sync=true', async () => {
            const first = await unpaidOrder(app, { price: 640 });
            const second = await unpaidOrder(app, { price: 640 });
            const params = (await pay(app, second.user, second.order.id)).body;
            expect((await sim(app, 'notify-faults', { mode: 'drop' })).statusCode).to.equal(204);
            const paid = await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
            const transactionId = paid.body.transactionId as string;
            // A notification for the first order with the second one's transaction_id (WeChat's bug, or ours).
            expect((await notifyPaid(app, { outTradeNo: first.order.outTradeNo, totalFee: 640, transactionId })).statusCode).to.equal(200);

            const synced = await getOrder(app, second.user, second.order.id, true);
            expect(synced.statusCode).to.equal(200);
            expect(synced.body.status).to.equal('unpaid');
            const [anomaly] = await anomaliesOf(transactionId);
            expect(anomaly).to.include({ kind: 'transaction_reused', source: 'query', outTradeNo: second.order.outTradeNo, orderId: second.order.id });
        });
    });

    describe('the anomalies module', () => {

        it('lists anomalies newest first, a page at a time, and leaves resolved ones out of the unresolved count', async () => {
            const total = await PaymentAnomaly.count();
            expect(total).to.be.at.least(6);
            const firstPage = await listAnomalies({ page: 1, limit: 2 });
            expect(firstPage.totalCount).to.equal(total);
            expect(firstPage.results).to.have.length(2);
            expect(firstPage.results[0].id).to.be.above(firstPage.results[1].id);
            const secondPage = await listAnomalies({ page: 2, limit: 2 });
            expect(secondPage.results[0].id).to.be.below(firstPage.results[1].id);

            const unresolved = await countUnresolvedAnomalies();
            await PaymentAnomaly.update({ resolvedAt: new Date(), resolution: 'refunded by hand' }, { where: { id: firstPage.results[0].id } });
            expect(await countUnresolvedAnomalies()).to.equal(unresolved - 1);
            expect((await listAnomalies({ page: 1, limit: 100, unresolved: true })).totalCount).to.equal(unresolved - 1);
        });
    });
});
