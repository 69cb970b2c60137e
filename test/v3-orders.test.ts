import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';

import { runRefundJobs } from '../lib/refunds/jobs';
import { requestRefund } from '../lib/refunds/request';
import { Order, Payment } from '../models';
import { cancel, eventually, eventuallyStatus, getOrder, json, passCloseWindow, pay, prepayOf, sim, TestApp, unpaidOrder } from './helpers';
import { eventuallyRefund, startRefundApp } from './refund-support';
import { v3Env, V3Mode } from './v3-app';

/**
 * The order/pay/notify/query/close/refund path on WeChat Pay API v3, in each merchant mode, through the mounted
 * simulator; and the switch-over, where orders paid under v2 stay on v2 after the merchant moves to v3.
 * wechatpay-axios-plugin verifies our paySign and builds notifications the backend must accept.
 */

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const staff = { kind: 'staff' as const, id: 1 };

function merchantPublicKey(app: TestApp): Crypto.KeyObject {
    return Crypto.createPublicKey(app.config.v3.material!.mchPrivateKey);
}

/** A notification of WeChat's, built with the plugin's Rsa and AesGcm helpers and signed with the simulator's public-key key. */
function pluginNotification(app: TestApp, eventType: string, originalType: string, resource: object) {
    const keys = app.sandbox.v3!.keys.publicKey;
    const nonce = Formatter.nonce(12);
    const apiV3Key = app.config.v3.material!.apiV3Key;
    const body = JSON.stringify({
        id: `EV-${Formatter.nonce(16)}`,
        create_time: new Date().toISOString(),
        resource_type: 'encrypt-resource',
        event_type: eventType,
        summary: 'ok',
        resource: { original_type: originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext: Aes.AesGcm.encrypt(JSON.stringify(resource), apiV3Key, nonce, originalType), associated_data: originalType, nonce }
    });
    const timestamp = Math.floor(app.context.clock.now() / 1000);
    const headerNonce = Formatter.nonce();
    return {
        payload: body,
        headers: {
            'content-type': 'application/json',
            'wechatpay-timestamp': String(timestamp),
            'wechatpay-nonce': headerNonce,
            'wechatpay-signature': Rsa.sign(Formatter.response(timestamp, headerNonce, body), keys.privateKey),
            'wechatpay-serial': keys.id,
            'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048'
        }
    };
}

function phonePaysV3(app: TestApp, params: Record<string, string>) {
    return sim(app, 'v3/pay', { prepayId: prepayOf(params as { package: string }), ...params });
}

for (const mode of ['publicKey', 'platform', 'switch'] as V3Mode[]) {
    describe(`orders on WeChat Pay API v3 (${mode} mode)`, () => {
        let app: TestApp;

        before(async () => {
            app = await startRefundApp(v3Env(mode));
            await sim(app, 'settings', { msPerScheduleSecond: 1 });
        });
        after(() => app.stop());

        it('JSAPI: the order is sent over v3, wx.requestPayment is RSA-signed (verified by the plugin), the v3 notification pays it', async () => {
            expect(app.context.payApiVersion).to.equal('v3');
            const { user, order } = await unpaidOrder(app, { price: 2350 });
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(200);
            const params = res.body;
            expect(params.signType).to.equal('RSA');
            expect(Rsa.verify(Formatter.joinedByLineFeed(params.appId, params.timeStamp, params.nonceStr, params.package), params.paySign, merchantPublicKey(app))).to.be.true();
            expect(app.sandbox.v3!.trades.find(order.outTradeNo)?.state).to.equal('NOTPAY');
            expect(app.sandbox.trades.find(order.outTradeNo)).to.be.undefined();

            // A repeat pay reuses the v3 prepay.
            const again = await pay(app, user, order.id);
            expect(again.body.package).to.equal(params.package);

            expect((await phonePaysV3(app, params)).statusCode).to.equal(200);
            await eventuallyStatus(app, user, order.id, 'paid');
            const row = (await Order.findByPk(order.id))!;
            expect(row.payApiVersion).to.equal('v3');
            expect(row.transactionId).to.equal(app.sandbox.v3!.trades.find(order.outTradeNo)!.transactionId!);
            const payment = (await Payment.findOne({ where: { orderId: order.id } }))!;
            expect(payment.get({ plain: true })).to.include({ source: 'notify', outcome: 'applied', totalFee: 2350 });
        });

        it('NATIVE: a code_url from v3; the scan pays it', async () => {
            const { user, order } = await unpaidOrder(app, { price: 990 });
            const res = await pay(app, user, order.id, 'NATIVE');
            expect(res.statusCode).to.equal(200);
            expect(String(res.body.codeUrl)).to.startWith('weixin://');
            expect(String(res.body.qrCode)).to.startWith('data:image/png;base64,');
            expect((await sim(app, 'v3/pay', { codeUrl: res.body.codeUrl })).statusCode).to.equal(200);
            await eventuallyStatus(app, user, order.id, 'paid');
        });

        it('a lost v3 notification: the query over v3 (GET ?sync=true) finds the payment', async () => {
            const { user, order } = await unpaidOrder(app);
            const params = (await pay(app, user, order.id)).body;
            expect((await sim(app, 'v3/notify-faults', { mode: 'drop' })).statusCode).to.equal(204);
            expect((await phonePaysV3(app, params)).statusCode).to.equal(200);
            expect((await getOrder(app, user, order.id)).body.status).to.equal('unpaid');
            expect((await getOrder(app, user, order.id, true)).body.status).to.equal('paid');
            expect((await Payment.findOne({ where: { orderId: order.id } }))!.source).to.equal('query');
        });

        it('a cancel closes the trade at WeChat over v3 once the close window has passed, and the trade takes no payment', async () => {
            const { user, order } = await unpaidOrder(app);
            const params = (await pay(app, user, order.id)).body;
            expect((await cancel(app, user, order.id)).body.status).to.equal('closing');
            await passCloseWindow(app);
            expect((await getOrder(app, user, order.id)).body.status).to.equal('closed');
            expect(app.sandbox.v3!.trades.find(order.outTradeNo)!.state).to.equal('CLOSED');
            expect((await phonePaysV3(app, params)).statusCode).to.equal(409);
        });

        it('a refund goes over /v3/refund/domestic/refunds and its v3 notification settles it', async () => {
            const { user, order } = await unpaidOrder(app, { price: 1500 });
            await phonePaysV3(app, (await pay(app, user, order.id)).body);
            await eventuallyStatus(app, user, order.id, 'paid');
            const { refund } = await requestRefund(app.context.refunds, { orderId: order.id, amount: 500, reason: 'returned', actor: staff });
            expect(refund.refundId).to.exist();
            expect(app.sandbox.v3!.trades.findRefund(refund.outRefundNo)).to.exist();
            const settled = await eventuallyRefund(refund.id, 'succeeded');
            expect(settled.wechatStatus).to.equal('SUCCESS');
            expect((await Order.findByPk(order.id))!.refundedFee).to.equal(500);
        });

        it('a refund whose notification is lost is ended by the v3 refund query', async () => {
            const { user, order } = await unpaidOrder(app, { price: 800 });
            await phonePaysV3(app, (await pay(app, user, order.id)).body);
            await eventuallyStatus(app, user, order.id, 'paid');
            expect((await sim(app, 'v3/notify-faults', { mode: 'drop' })).statusCode).to.equal(204);
            const { refund } = await requestRefund(app.context.refunds, { orderId: order.id, amount: 800, reason: 'returned', actor: staff });
            await eventually(() => app.sandbox.v3!.trades.findRefund(refund.outRefundNo)?.status === 'SUCCESS', 'the refund to succeed at WeChat');
            await runRefundJobs(app.context.refunds, new Date(app.context.clock.now() + 3600_000));
            expect((await eventuallyRefund(refund.id, 'succeeded')).wechatStatus).to.equal('SUCCESS');
            expect((await Order.findByPk(order.id))!.status).to.equal('refunded');
        });
    });
}

describe('v3 notifications built with wechatpay-axios-plugin', () => {
    let app: TestApp;

    before(async () => {
        app = await startRefundApp(v3Env('publicKey'));
    });
    after(() => app.stop());

    it('a TRANSACTION.SUCCESS signed and encrypted by the plugin pays the order (204); a replay changes nothing', async () => {
        const { user, order } = await unpaidOrder(app, { price: 4321 });
        await pay(app, user, order.id);
        const resource = {
            appid: app.config.wechat.appId, mchid: app.config.pay.mchId, out_trade_no: order.outTradeNo, transaction_id: `4200${Crypto.randomInt(1e9)}${Date.now()}`.slice(0, 28),
            trade_type: 'JSAPI', trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', success_time: '2026-12-01T20:00:00+08:00',
            payer: { openid: user.openid }, amount: { total: 4321, payer_total: 4321, currency: 'CNY', payer_currency: 'CNY' }
        };
        const notification = pluginNotification(app, 'TRANSACTION.SUCCESS', 'transaction', resource);
        const res = await json(app.server, { method: 'POST', url: '/orders/pay/notify/v3', ...notification });
        expect(res.statusCode).to.equal(204);
        expect((await getOrder(app, user, order.id)).body.status).to.equal('paid');
        const replay = await json(app.server, { method: 'POST', url: '/orders/pay/notify/v3', ...notification });
        expect(replay.statusCode).to.equal(204);
        expect(await Payment.count({ where: { orderId: order.id } })).to.equal(1);
    });

    it('a forged, a probe or a mismatching notification is refused with a 4xx {code: FAIL} and changes nothing', async () => {
        const { user, order } = await unpaidOrder(app, { price: 100 });
        await pay(app, user, order.id);
        const resource = {
            appid: app.config.wechat.appId, mchid: app.config.pay.mchId, out_trade_no: order.outTradeNo, transaction_id: `4201${Date.now()}${Crypto.randomInt(1e9)}`.slice(0, 28),
            trade_state: 'SUCCESS', success_time: '2026-12-01T20:00:00+08:00', payer: { openid: user.openid }, amount: { total: 100 }
        };
        const genuine = pluginNotification(app, 'TRANSACTION.SUCCESS', 'transaction', resource);
        const forged = { ...genuine, headers: { ...genuine.headers, 'wechatpay-signature': Rsa.sign('forged', Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey) } };
        const probe = { ...genuine, headers: { ...genuine.headers, 'wechatpay-signature': `WECHATPAY/SIGNTEST/${genuine.headers['wechatpay-signature']}` } };
        const wrongAmount = pluginNotification(app, 'TRANSACTION.SUCCESS', 'transaction', { ...resource, amount: { total: 1 } });
        for (const bad of [forged, probe, wrongAmount]) {
            const res = await json(app.server, { method: 'POST', url: '/orders/pay/notify/v3', ...bad });
            expect(res.statusCode).to.equal(400);
            expect(res.body.code).to.equal('FAIL');
            expect(res.body.message).to.be.a.string();
        }

        expect((await getOrder(app, user, order.id)).body.status).to.equal('unpaid');
        expect(await Payment.count({ where: { orderId: order.id } })).to.equal(0);
    });
});

describe('the switch-over: a merchant moves from v2 to v3 while orders are in flight', () => {
    let app: TestApp;

    before(async () => {
        app = await startRefundApp({ ...v3Env('publicKey'), WECHATPAY_API_VERSION: 'v2' });
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    it('orders first sent under v2 keep being paid, queried, closed and refunded under v2; new ones go over v3', async () => {
        expect(app.context.payApiVersion).to.equal('v2');
        const paidLater = await unpaidOrder(app, { price: 700 });
        const v2Params = (await pay(app, paidLater.user, paidLater.order.id)).body;
        expect(v2Params.signType).to.equal('MD5');
        const closedLater = await unpaidOrder(app);
        await pay(app, closedLater.user, closedLater.order.id);

        // The merchant switches new payments to v3 (WECHATPAY_API_VERSION=v3 and a restart, here in place).
        app.context.payApiVersion = 'v3';
        const fresh = await unpaidOrder(app);
        expect((await pay(app, fresh.user, fresh.order.id)).body.signType).to.equal('RSA');
        expect((await Order.findByPk(fresh.order.id))!.payApiVersion).to.equal('v3');

        // The v2 order is paid again with its v2 prepay and settled from v2's notification and query.
        const again = (await pay(app, paidLater.user, paidLater.order.id)).body;
        expect(again).to.include({ signType: 'MD5', package: v2Params.package });
        expect((await sim(app, 'pay', { prepayId: prepayOf(v2Params), ...v2Params })).statusCode).to.equal(200);
        await eventuallyStatus(app, paidLater.user, paidLater.order.id, 'paid');
        expect((await getOrder(app, paidLater.user, paidLater.order.id, true)).body.status).to.equal('paid');
        expect(app.sandbox.v3!.trades.find(paidLater.order.outTradeNo)).to.be.undefined();

        // Its refund goes over v2.
        const { refund } = await requestRefund(app.context.refunds, { orderId: paidLater.order.id, amount: 700, reason: 'returned', actor: staff });
        expect(app.sandbox.v3!.trades.findRefund(refund.outRefundNo)).to.be.undefined();
        await eventuallyRefund(refund.id, 'succeeded');

        // The other v2 order is closed at WeChat over v2.
        await cancel(app, closedLater.user, closedLater.order.id);
        await passCloseWindow(app);
        expect((await getOrder(app, closedLater.user, closedLater.order.id)).body.status).to.equal('closed');
        expect(app.sandbox.trades.find(closedLater.order.outTradeNo)!.state).to.equal('CLOSED');
        expect((await Order.findByPk(closedLater.order.id))!.payApiVersion).to.equal('v2');
    });
});
