import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { Goods, Order, Payment } from '../models';
import { signV2 } from '../lib/wechatpay/sign';
import { eventuallyStatus, getOrder, pay, sim, startApp, TestApp, unpaidOrder } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** How long to wait for the notification to be applied: a cap for a loaded machine, not a speed requirement. */
const notified = 10_000;

describe('paying an order (WeChat Pay v2)', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    describe('JSAPI', () => {

        it('goes from order to paid through wx.requestPayment and the notification', async () => {
            const { user, order, goodsId } = await unpaidOrder(app, { price: 6800, count: 2 });
            const asked = Date.now();
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(200);
            const params = res.body;
            expect(Object.keys(params).sort()).to.equal(['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
            expect(params.appId).to.equal(app.config.wechat.appId);
            expect(params.timeStamp).to.match(/^\d{10}$/);
            expect(Number(params.timeStamp), 'timeStamp is the unix second the parameters were made').to.be.within(Math.floor(asked / 1000), Math.ceil(Date.now() / 1000));
            expect(params.package).to.match(/^prepay_id=wx\d{14}[0-9a-f]+$/);
            expect(params.signType).to.equal('MD5');

            // The MD5 rule of reference §2.4, computed here independently of the server's signing.
            const expected = signV2({ appId: params.appId, timeStamp: params.timeStamp, nonceStr: params.nonceStr, package: params.package, signType: 'MD5' }, app.config.pay.apiKey, 'MD5');
            expect(params.paySign).to.equal(expected);

            const paying = Date.now();
            const paid = await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
            expect(paid.statusCode).to.equal(200);

            const final = await eventuallyStatus(app, user, order.id, 'paid', notified);
            expect(final.transactionId).to.equal(paid.body.transactionId);
            expect(final.transactionId).to.match(/^\d{28}$/);
            expect(final.tradeType).to.equal('JSAPI');
            // WeChat's time_end, to the second: between the phone's pay and now.
            expect(new Date(final.paidAt).getTime()).to.be.within(Math.floor(paying / 1000) * 1000, Date.now());
            expect((await Goods.findByPk(goodsId))!.stock).to.equal(8);
            const payments = await Payment.findAll({ where: { orderId: order.id } });
            expect(payments).to.have.length(1);
            expect(payments[0].outcome).to.equal('applied');
            expect(payments[0].source).to.equal('notify');
            expect(payments[0].totalFee).to.equal(13600);
            expect((await Order.findByPk(order.id))!.payerOpenid).to.equal(user.openid);
        });

        it('reuses a valid prepay instead of ordering again', async () => {
            const { user, order } = await unpaidOrder(app);
            const first = await pay(app, user, order.id);
            const second = await pay(app, user, order.id, 'JSAPI');
            expect(second.statusCode).to.equal(200);
            expect(second.body.package).to.equal(first.body.package);
            expect(second.body.nonceStr).to.not.equal(first.body.nonceStr);
        });

        it('orders again at WeChat when the prepay has expired, and WeChat re-enters the same order', async () => {
            const { user, order } = await unpaidOrder(app);
            const first = await pay(app, user, order.id);
            await Order.update({ prepayExpiresAt: new Date(Date.now() - 1000) }, { where: { id: order.id } });
            const second = await pay(app, user, order.id);
            expect(second.statusCode).to.equal(200);
            expect(second.body.package).to.equal(first.body.package);       // identical parameters: WeChat's re-entry gives the live prepay_id
            expect((await Order.findByPk(order.id))!.prepayExpiresAt!.getTime()).to.be.above(Date.now());
        });

        it('keeps the trade type of the first pay', async () => {
            const { user, order } = await unpaidOrder(app);
            expect((await pay(app, user, order.id)).statusCode).to.equal(200);
            const res = await pay(app, user, order.id, 'NATIVE');
            expect(res.statusCode).to.equal(409);
            expect(res.body.message).to.contain('JSAPI');
        });

        it("answers 404 for another user's order and 409 for a paid one", async () => {
            const { user, order } = await unpaidOrder(app);
            const other = await unpaidOrder(app);
            expect((await pay(app, other.user, order.id)).statusCode).to.equal(404);
            const params = (await pay(app, user, order.id)).body;
            await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
            await eventuallyStatus(app, user, order.id, 'paid', notified);
            const again = await pay(app, user, order.id);
            expect(again.statusCode).to.equal(409);
        });

        it('answers 409 for an expired order', async () => {
            const { user, order } = await unpaidOrder(app);
            await Order.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id: order.id } });
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(409);
            expect(res.body.message).to.contain('expired');
        });

        it('refuses unknown trade types and extra fields', async () => {
            const { user, order } = await unpaidOrder(app);
            for (const payload of [{ tradeType: 'APP' }, { tradeType: 'JSAPI', totalFee: 1 }, { openid: 'x' }]) {
                const res = await app.server.inject({ method: 'POST', url: `/orders/${order.id}/pay`, headers: user.auth, payload });
                expect(res.statusCode).to.equal(400);
            }
        });

        it('syncs the order when WeChat answers ORDERPAID (the notification was lost)', async () => {
            const { user, order } = await unpaidOrder(app);
            const params = (await pay(app, user, order.id)).body;
            await sim(app, 'notify-faults', { mode: 'drop' });
            await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
            expect((await getOrder(app, user, order.id)).body.status).to.equal('unpaid');
            await Order.update({ prepayExpiresAt: new Date(Date.now() - 1000) }, { where: { id: order.id } });
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(409);
            const now = await getOrder(app, user, order.id);
            expect(now.body.status).to.equal('paid');
            expect((await Payment.findOne({ where: { orderId: order.id } }))!.source).to.equal('query');
        });
    });

    describe('NATIVE', () => {

        it('answers a code URL and its QR code, and gets paid by scanning it', async () => {
            const { user, order } = await unpaidOrder(app);
            const res = await pay(app, user, order.id, 'NATIVE');
            expect(res.statusCode).to.equal(200);
            expect(res.body.codeUrl).to.match(/^weixin:\/\/wxpay\/bizpayurl\?pr=\S+$/);
            expect(res.body.qrCode as string).to.startWith('data:image/png;base64,');
            const png = Buffer.from(res.body.qrCode.slice('data:image/png;base64,'.length), 'base64');
            expect(png.subarray(1, 4).toString()).to.equal('PNG');
            const paid = await sim(app, 'pay', { codeUrl: res.body.codeUrl });
            expect(paid.statusCode).to.equal(200);
            const final = await eventuallyStatus(app, user, order.id, 'paid', notified);
            expect(final.tradeType).to.equal('NATIVE');
        });
    });

    describe('when WeChat misbehaves', () => {

        it('retries a SYSTEMERROR and succeeds', async () => {
            const { user, order } = await unpaidOrder(app);
            await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'errcode', code: 'SYSTEMERROR' });
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(200);
            expect(res.body.package as string).to.startWith('prepay_id=');
        });

        it('answers 503 after SYSTEMERROR on every try, and the order stays payable', async () => {
            const { user, order } = await unpaidOrder(app);
            await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'errcode', code: 'SYSTEMERROR', times: 3 });
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(503);
            expect((await Order.findByPk(order.id))!.prepayId).to.be.null();
            expect((await pay(app, user, order.id)).statusCode).to.equal(200);
        });

        it('answers 503 on 5xx and on answers whose signature does not verify', async () => {
            const { user, order } = await unpaidOrder(app);
            await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'http500', times: 3 });
            expect((await pay(app, user, order.id)).statusCode).to.equal(503);
            await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'badsign', times: 3 });
            expect((await pay(app, user, order.id)).statusCode).to.equal(503);
            expect((await Order.findByPk(order.id))!.prepayId).to.be.null();
        });

        it('answers 503 when WeChat does not answer in time', async () => {
            const { user, order } = await unpaidOrder(app);
            // WeChat would answer after 10 s; the app gives up at its own 1 s timeout on every attempt instead.
            await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'timeout', delayMs: 10_000, times: 3 });
            const started = Date.now();
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(503);
            expect(Date.now() - started, 'the app waited for a WeChat answer instead of its own timeout').to.be.below(10_000);
        });

        it('answers 502 for a business refusal that retrying will not fix', async () => {
            const { user, order } = await unpaidOrder(app);
            await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'errcode', code: 'NOAUTH' });
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(502);
            expect(res.body.message).to.contain('NOAUTH');
        });

        it('answers 409 when WeChat says the order is closed', async () => {
            const { user, order } = await unpaidOrder(app);
            await sim(app, 'faults', { endpoint: 'unifiedorder', kind: 'errcode', code: 'ORDERCLOSED' });
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(409);
        });
    });
});

describe('paying with HMAC-SHA256', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp({ WECHATPAY_SIGN_TYPE: 'HMAC-SHA256' });
    });
    after(() => app.stop());

    it('signs wx.requestPayment with HMAC-SHA256 and gets paid', async () => {
        const { user, order } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        expect(params.signType).to.equal('HMAC-SHA256');
        expect(params.paySign).to.match(/^[0-9A-F]{64}$/);
        const { paySign, ...signed } = params;
        expect(paySign).to.equal(signV2(signed, app.config.pay.apiKey, 'HMAC-SHA256'));
        const paid = await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
        expect(paid.statusCode).to.equal(200);
        await eventuallyStatus(app, user, order.id, 'paid', notified);
    });

    it('accepts an MD5-signed notification without sign_type for an HMAC merchant', async () => {
        const { user, order } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        await sim(app, 'notify-faults', { mode: 'md5' });
        await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
        await eventuallyStatus(app, user, order.id, 'paid', notified);
    });
});
