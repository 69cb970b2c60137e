import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { Goods, Order, Payment } from '../models';
import { reconcilePayments } from '../lib/jobs/reconcile';
import { notifySuccessXml } from '../routes/payments';
import { signV2, SignType } from '../lib/wechatpay/sign';
import { formatBeijingCompact } from '../lib/wechatpay/time';
import { toXml } from '../lib/wechatpay/xml';
import { eventually, getOrder, json, pay, sim, startApp, TestApp, unpaidOrder } from './helpers';
import { paymentNotification } from './notifications';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('POST /orders/pay/notify', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    /** A pay notification as WeChat sends it, signed with `key` (the merchant's by default). */
    const notification = (order: { outTradeNo: string; totalFee: number }, overrides: Record<string, string | number> = {}, options: { key?: string; signType?: SignType } = {}) => {
        const fields = paymentNotification(app, order, overrides);
        if (options.signType === 'HMAC-SHA256') {
            fields.sign_type = 'HMAC-SHA256';
        }

        fields.sign = signV2(fields, options.key ?? app.config.pay.apiKey, options.signType ?? 'MD5');
        return toXml(fields);
    };

    const notify = (payload: string | Buffer) => app.server.inject({ method: 'POST', url: '/orders/pay/notify', headers: { 'content-type': 'text/xml' }, payload });

    const statusOf = async (orderId: number) => (await Order.findByPk(orderId))!.status;

    it('marks the order paid and answers exactly the success XML, as text/xml', async () => {
        const { order } = await unpaidOrder(app, { price: 1234 });
        const res = await notify(notification(order));
        expect(res.statusCode).to.equal(200);
        expect(res.payload).to.equal('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>');
        expect(res.payload).to.equal(notifySuccessXml);
        expect(String(res.headers['content-type'])).to.startWith('text/xml');
        expect(await statusOf(order.id)).to.equal('paid');
    });

    it('accepts HMAC-SHA256 notifications, with or without sign_type', async () => {
        const first = await unpaidOrder(app);
        expect((await notify(notification(first.order, {}, { signType: 'HMAC-SHA256' }))).statusCode).to.equal(200);
        expect(await statusOf(first.order.id)).to.equal('paid');

        const second = await unpaidOrder(app);
        const fields: Record<string, string | number> = { appid: app.config.wechat.appId, mch_id: app.config.pay.mchId, out_trade_no: second.order.outTradeNo, result_code: 'SUCCESS', return_code: 'SUCCESS', time_end: formatBeijingCompact(new Date()), total_fee: second.order.totalFee, transaction_id: '4200000215201811190261405420', nonce_str: 'n' };
        fields.sign = signV2(fields, app.config.pay.apiKey, 'HMAC-SHA256');       // 64 hex, no sign_type: detected by length
        expect((await notify(toXml(fields))).statusCode).to.equal(200);
        expect(await statusOf(second.order.id)).to.equal('paid');
    });

    it('applies one notification delivered many times at once exactly once', async () => {
        const { order } = await unpaidOrder(app);
        const xml = notification(order);
        const results = await Promise.all(Array.from({ length: 20 }, () => notify(xml)));
        expect(results.map((res) => res.payload)).to.equal(Array(20).fill(notifySuccessXml));
        expect(await Payment.count({ where: { orderId: order.id } })).to.equal(1);
        const paid = await Order.findByPk(order.id);
        expect(paid!.status).to.equal('paid');
        const replay = await notify(xml);
        expect(replay.payload).to.equal(notifySuccessXml);
        expect((await Order.findByPk(order.id))!.updatedAt.getTime()).to.equal(paid!.updatedAt.getTime());
    });

    it("applies the simulator's duplicate burst once", async () => {
        const { user, order } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        await sim(app, 'notify-faults', { mode: 'duplicate', count: 6 });
        await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
        await eventually(async () => {
            const log = (await sim(app, 'notifications', undefined, 'GET')).body as Array<{ outTradeNo: string; outcome: string }>;
            return log.filter((entry) => entry.outTradeNo === order.outTradeNo && entry.outcome === 'success').length === 6;
        }, 'six successful deliveries');
        expect(await Payment.count({ where: { orderId: order.id } })).to.equal(1);
        expect(await statusOf(order.id)).to.equal('paid');
    });

    describe('refuses, changing nothing', () => {

        const refused = async (payload: string | Buffer, orderId: number, status = 400) => {
            const res = await notify(payload);
            expect(res.statusCode).to.equal(status);
            if (status === 400) {
                expect(res.payload).to.contain('<return_code><![CDATA[FAIL]]></return_code>');
            }

            expect(await statusOf(orderId)).to.equal('unpaid');
            expect(await Payment.count({ where: { orderId } })).to.equal(0);
        };

        it('a forged signature', async () => {
            const { order } = await unpaidOrder(app);
            await refused(notification(order, {}, { key: Crypto.randomBytes(16).toString('hex') }), order.id);
            await refused(notification(order).replace(/<sign><!\[CDATA\[[0-9A-F]+/, '<sign><![CDATA[0123456789ABCDEF0123456789ABCDEF'), order.id);
            await refused(notification(order).replace(/<sign>.*<\/sign>/, ''), order.id);
        });

        it('a field changed after signing', async () => {
            const { order } = await unpaidOrder(app, { price: 5000 });
            await refused(notification(order).replace('<total_fee>5000</total_fee>', '<total_fee>1</total_fee>'), order.id);
        });

        it('a signed notification with the wrong amount, appid, mch_id or order', async () => {
            const { order } = await unpaidOrder(app, { price: 5000 });
            await refused(notification(order, { total_fee: 4999, cash_fee: 4999 }), order.id);
            await refused(notification(order, { total_fee: '50.00' }), order.id);
            await refused(notification(order, { appid: 'wx0000000000000000' }), order.id);
            await refused(notification(order, { mch_id: '1230000109' }), order.id);
            await refused(notification({ ...order, outTradeNo: 'T-not-ours-0001' }), order.id);
            await refused(notification(order, { time_end: '2026-11-22 10:00:00' }), order.id);
        });

        it("a transaction_id that already paid another order", async () => {
            const first = await unpaidOrder(app, { price: 700 });
            const second = await unpaidOrder(app, { price: 700 });
            expect((await notify(notification(first.order, { transaction_id: '4200000000000000000000000777' }))).statusCode).to.equal(200);
            await refused(notification(second.order, { transaction_id: '4200000000000000000000000777' }), second.order.id);
        });

        it('XML that is malformed, hostile or not XML', async () => {
            const { order } = await unpaidOrder(app);
            const valid = notification(order);
            const bodies = [
                '',
                'not xml at all',
                '{"return_code":"SUCCESS"}',
                valid.slice(0, valid.length - 20),
                valid.replace('<xml>', '<root>').replace('</xml>', '</root>'),
                `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><a>&lol2;</a></xml>`,
                `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><out_trade_no>&xxe;</out_trade_no></xml>`,
                valid.replace('<xml>', '<xml><__proto__><![CDATA[x]]></__proto__>'),
                valid.replace('<xml>', '<xml><constructor>x</constructor>'),
                valid.replace('<xml>', '<xml><nested><a>1</a></nested>'),
                valid.replace('<xml>', `<xml><out_trade_no>${order.outTradeNo}</out_trade_no>`),
                valid.replace('<xml>', '<xml lang="en">')
            ];
            for (const body of bodies) {
                await refused(body, order.id);
            }
        });

        it('a body over the size cap (413)', async () => {
            const { order } = await unpaidOrder(app);
            await refused(notification(order, { attach: 'x'.repeat(20_000) }), order.id, 413);
        });
    });

    it('acknowledges a signed notification of a failed payment without changing the order', async () => {
        const { order } = await unpaidOrder(app);
        const res = await notify(notification(order, { result_code: 'FAIL', err_code: 'NOTENOUGH' }));
        expect(res.payload).to.equal(notifySuccessXml);
        expect(await statusOf(order.id)).to.equal('unpaid');
    });

    it('records money that arrives for a closed order and flags it for refund', async () => {
        const { user, order, goodsId } = await unpaidOrder(app, { price: 880 });
        const cancelled = await json(app.server, { method: 'POST', url: `/orders/${order.id}/cancel`, headers: user.auth });
        expect(cancelled.body.status).to.equal('closed');
        const res = await notify(notification(order, { transaction_id: '4200000000000000000000000888' }));
        expect(res.payload).to.equal(notifySuccessXml);
        const closed = (await getOrder(app, user, order.id)).body;
        expect(closed.status).to.equal('closed');
        expect(closed.refundRequired).to.be.true();
        const payment = await Payment.findOne({ where: { transactionId: '4200000000000000000000000888' } });
        expect(payment!.orderId).to.equal(order.id);
        expect(payment!.outcome).to.equal('refund_required');
        expect(payment!.totalFee).to.equal(880);
        expect(JSON.parse(payment!.raw).out_trade_no).to.equal(order.outTradeNo);
        expect((await notify(notification(order, { transaction_id: '4200000000000000000000000888' }))).payload).to.equal(notifySuccessXml);
        expect(await Payment.count({ where: { orderId: order.id } })).to.equal(1);
        expect((await Goods.findByPk(goodsId))!.stock).to.equal(10);
    });

    it('refuses a mis-signed notification on every retry; the reconciler then finds the payment', async () => {
        const { user, order } = await unpaidOrder(app);
        const params = (await pay(app, user, order.id)).body;
        await sim(app, 'notify-faults', { mode: 'badsign' });
        await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
        const attempts = await eventually(async () => {
            const log = (await sim(app, 'notifications', undefined, 'GET')).body.filter((entry: any) => entry.outTradeNo === order.outTradeNo);
            return log.length >= 3 && log;
        }, 'three refused deliveries');
        expect(attempts.every((entry: any) => entry.outcome === 'failed')).to.be.true();
        expect(await statusOf(order.id)).to.equal('unpaid');
        await reconcilePayments(app.context, new Date(Date.now() + 3600_000));
        expect(await statusOf(order.id)).to.equal('paid');
    });
});
