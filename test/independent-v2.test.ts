import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';
import { AxiosError } from 'axios';
import { Hash, Transformer, Wechatpay } from 'wechatpay-axios-plugin';

import { Order, Payment } from '../models';
import { eventually, pay, sim, startApp, TestApp, unpaidOrder } from './helpers';
import { NotificationFields, paymentNotification } from './notifications';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/**
 * An independent check of our API v2 code: wechatpay-axios-plugin, a WeChat Pay client nobody here wrote, plays
 * the merchant against the simulator and WeChat against the backend. Nothing here signs, verifies or parses XML with
 * lib/wechatpay/: the plugin's v2 client signs requests and verifies answers itself (its Transformer), and where it
 * has no client for a step (signing a notification, checking a paySign, reading a reply) the test uses its
 * lower-level helpers Hash.sign and Transformer.toXml/toObject.
 */

type Fields = Record<string, string>;

const successReply = { return_code: 'SUCCESS', return_msg: 'OK' };

/** The plugin's client for this app's merchant, pointed at the simulator mounted at /sandbox. */
function pluginClient(app: TestApp): Wechatpay {
    // Its constructor insists on API v3 material too; these throwaway keys are never used by the v2 calls here.
    const { privateKey, publicKey } = Crypto.generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' }
    });
    return new Wechatpay({
        mchid: app.config.pay.mchId,
        serial: 'unused-v3-serial',
        privateKey,
        certs: { 'PUB_KEY_ID_unused': publicKey },
        secret: app.config.pay.apiKey,
        baseURL: `${app.base}/sandbox/`,
        proxy: false
    } as any);
}

/** Whether `fields.sign` is what the plugin computes over them, with the algorithm its length names (as its v2 client does). */
function pluginVerifies(fields: Fields, key: string): boolean {
    const type = fields.sign?.length === 64 ? 'HMAC-SHA256' : 'MD5';
    return Hash.equals(Hash.sign(type, fields, key), fields.sign);
}

/** A business refusal the plugin's client threw: the answer it read (it verifies signatures only on SUCCESS). */
async function refusal(call: Promise<unknown>): Promise<Fields> {
    const err = await expect(call).to.reject(AxiosError);
    expect(err.code).to.equal('EV2_RES_STATUS_CODE_NOT_SUCESS');
    return err.response!.data as Fields;
}

describe('wechatpay-axios-plugin against the backend', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    /** The notification of §2.7 as WeChat would send it, signed and serialised by the plugin. */
    const notification = (order: { outTradeNo: string; totalFee: number }, signType: 'MD5' | 'HMAC-SHA256', extra: NotificationFields = {}): NotificationFields => {
        const fields = paymentNotification(app, order, { ...(signType === 'HMAC-SHA256' ? { sign_type: signType } : {}), ...extra });
        return { ...fields, sign: Hash.sign(signType, fields, app.config.pay.apiKey) };
    };

    const notify = async (fields: NotificationFields) => {
        const res = await app.server.inject({ method: 'POST', url: '/orders/pay/notify', headers: { 'content-type': 'text/xml' }, payload: Transformer.toXml(fields) });
        return { statusCode: res.statusCode, reply: Transformer.toObject(res.payload) as Fields };
    };

    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
        it(`accepts a notification the plugin signed with ${signType}, and its reply is WeChat's success form`, async () => {
            const { order } = await unpaidOrder(app, { price: 2345 });
            const fields = notification(order, signType);
            const res = await notify(fields);
            expect(res.statusCode).to.equal(200);
            expect(res.reply).to.equal(successReply);
            const paid = await Order.findByPk(order.id);
            expect(paid!.status).to.equal('paid');
            expect(paid!.transactionId).to.equal(String(fields.transaction_id));

            // A duplicate gets the very same reply.
            expect(await notify(fields)).to.equal({ statusCode: 200, reply: successReply });
        });
    }

    it('refuses a plugin-signed notification tampered with after signing, and says FAIL', async () => {
        const { order } = await unpaidOrder(app, { price: 2345 });
        const genuine = notification(order, 'MD5');
        for (const tampered of [{ ...genuine, total_fee: 1, cash_fee: 1 }, { ...genuine, out_trade_no: `${genuine.out_trade_no}X` }, { ...genuine, sign: Hash.sign('MD5', genuine, `${app.config.pay.apiKey}x`) }]) {
            const res = await notify(tampered);
            expect(res.statusCode).to.equal(400);
            expect(res.reply).to.equal({ return_code: 'FAIL', return_msg: 'invalid signature' });
        }

        expect((await Order.findByPk(order.id))!.status).to.equal('unpaid');
        expect(await Payment.count({ where: { orderId: order.id } })).to.equal(0);
    });
});

/** POST /orders/{id}/pay's paySign, checked by the plugin, then paid by the simulated phone: the backend's reply to the notification read by the plugin. */
for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    describe(`wechatpay-axios-plugin and a ${signType} merchant's wx.requestPayment`, () => {

        let app: TestApp;
        before(async () => {
            app = await startApp({ WECHATPAY_SIGN_TYPE: signType });
            await sim(app, 'settings', { msPerScheduleSecond: 1 });
        });
        after(() => app.stop());

        it('gives a paySign the plugin verifies, and the phone\'s payment ends paid with the success reply', async () => {
            const { user, order } = await unpaidOrder(app);
            const res = await pay(app, user, order.id);
            expect(res.statusCode).to.equal(200);
            const params = res.body;
            expect(params.signType).to.equal(signType);
            const signed = { appId: params.appId, timeStamp: params.timeStamp, nonceStr: params.nonceStr, package: params.package, signType: params.signType };
            expect(params.paySign).to.equal(Hash.sign(signType, signed, app.config.pay.apiKey));
            expect(params.paySign).to.not.equal(Hash.sign(signType, { ...signed, timeStamp: String(Number(params.timeStamp) + 1) }, app.config.pay.apiKey));

            const paid = await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
            expect(paid.statusCode).to.equal(200);
            const delivery = await eventually(async () => {
                const log = (await sim(app, 'notifications', undefined, 'GET')).body as Array<{ outTradeNo: string; outcome: string; reply?: string }>;
                return log.find((entry) => entry.outTradeNo === order.outTradeNo && entry.outcome === 'success');
            }, 'the notification to be delivered');
            expect(Transformer.toObject(delivery.reply!)).to.equal(successReply);
            expect((await Order.findByPk(order.id))!.status).to.equal('paid');
        });
    });
}

describe('wechatpay-axios-plugin against the simulator', () => {

    let app: TestApp;
    let wxpay: Wechatpay;
    const notifications: Fields[] = [];
    const receiver = Hapi.server({ port: 0, host: '127.0.0.1' });

    before(async () => {
        app = await startApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
        wxpay = pluginClient(app);
        // The merchant's notify_url: it reads the simulator's notification with the plugin and answers as WeChat wants.
        receiver.route({
            method: 'POST',
            path: '/notify',
            options: { payload: { parse: false, output: 'data' } },
            handler: (request, h) => {
                notifications.push(Transformer.toObject((request.payload as Buffer).toString('utf8')) as Fields);
                return h.response(Transformer.toXml(successReply)).type('text/xml');
            }
        });
        await receiver.start();
    });
    after(async () => {
        await receiver.stop();
        await app.stop();
    });

    const order = (extra: Fields = {}) => ({
        appid: app.config.wechat.appId,
        mch_id: app.config.pay.mchId,
        body: '独立测试-T恤',
        out_trade_no: `I${Date.now()}${Crypto.randomBytes(4).toString('hex')}`,
        total_fee: '321',
        spbill_create_ip: '127.0.0.1',
        notify_url: `${receiver.info.uri}/notify`,
        trade_type: 'JSAPI',
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        ...extra
    });

    const query = (outTradeNo: string, extra: Fields = {}) => wxpay.v2.pay.orderquery.post({ appid: app.config.wechat.appId, mch_id: app.config.pay.mchId, out_trade_no: outTradeNo, ...extra });

    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
        it(`orders, queries and is notified of a payment, every answer verified by the plugin (${signType})`, async () => {
            const request = order({ sign_type: signType });
            const placed = await wxpay.v2.pay.unifiedorder.post(request);
            const answer = placed.data as Fields;
            expect(answer).to.include({ return_code: 'SUCCESS', result_code: 'SUCCESS', trade_type: 'JSAPI' });
            expect(answer.sign).to.have.length(signType === 'MD5' ? 32 : 64);
            expect(answer.prepay_id).to.match(/^wx\d{14}[0-9a-f]+$/);

            const unpaid = (await query(request.out_trade_no, { sign_type: signType })).data as Fields;
            expect(unpaid).to.include({ result_code: 'SUCCESS', trade_state: 'NOTPAY', out_trade_no: request.out_trade_no });

            // The phone's wx.requestPayment fields, signed by the plugin (the simulator checks paySign as WeChat does).
            const payFields = { appId: request.appid, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: Crypto.randomBytes(8).toString('hex'), package: `prepay_id=${answer.prepay_id}`, signType };
            const paid = await sim(app, 'pay', { prepayId: answer.prepay_id, ...payFields, paySign: Hash.sign(signType, payFields, app.config.pay.apiKey) });
            expect(paid.statusCode).to.equal(200);
            const notified = await eventually(() => notifications.find((fields) => fields.out_trade_no === request.out_trade_no), 'the notification');
            expect(pluginVerifies(notified, app.config.pay.apiKey)).to.be.true();
            expect(notified).to.include({ return_code: 'SUCCESS', result_code: 'SUCCESS', total_fee: '321', transaction_id: paid.body.transactionId });

            const success = (await query(request.out_trade_no, { sign_type: signType })).data as Fields;
            expect(success).to.include({ trade_state: 'SUCCESS', transaction_id: paid.body.transactionId, total_fee: '321' });

            // closeorder on a paid trade: ORDERPAID, in an answer whose signature the plugin's Hash verifies.
            const closed = await refusal(wxpay.v2.pay.closeorder.post({ appid: app.config.wechat.appId, mch_id: app.config.pay.mchId, out_trade_no: request.out_trade_no, sign_type: signType }));
            expect(closed).to.include({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'ORDERPAID' });
            expect(pluginVerifies(closed, app.config.pay.apiKey)).to.be.true();
        });
    }

    it('gets ORDERNOTEXIST, signed, for a trade the simulator never saw', async () => {
        const answer = await refusal(query('I000000000000unknown'));
        expect(answer).to.include({ result_code: 'FAIL', err_code: 'ORDERNOTEXIST' });
        expect(pluginVerifies(answer, app.config.pay.apiKey)).to.be.true();
    });

    it('refuses, in the plugin, an answer whose signature does not verify', async () => {
        const request = order();
        await wxpay.v2.pay.unifiedorder.post(request);
        await sim(app, 'faults', { endpoint: 'orderquery', kind: 'badsign' });
        const err = await expect(query(request.out_trade_no)).to.reject(AxiosError);
        expect(err.code).to.equal('EV2_RES_SIGNATURE_NOT_EQUAL');
    });

    it('closes an unpaid trade once WeChat allows it, and the trade then reads CLOSED', async () => {
        const request = order({ trade_type: 'NATIVE', product_id: 'P1', openid: '' });
        expect((await wxpay.v2.pay.unifiedorder.post(request)).data).to.include({ result_code: 'SUCCESS', trade_type: 'NATIVE' });
        // WeChat takes no close within 5 minutes of the order (reference §2.6): move the simulator past that window.
        await sim(app, 'clock', { advanceMs: 6 * 60_000 });
        const closed = (await wxpay.v2.pay.closeorder.post({ appid: app.config.wechat.appId, mch_id: app.config.pay.mchId, out_trade_no: request.out_trade_no })).data as Fields;
        expect(closed).to.include({ return_code: 'SUCCESS', result_code: 'SUCCESS' });
        expect((await query(request.out_trade_no)).data).to.include({ trade_state: 'CLOSED' });
        const reordered = await refusal(wxpay.v2.pay.unifiedorder.post(request));
        expect(reordered).to.include({ err_code: 'ORDERCLOSED' });
    });
});
