import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import { Hash } from 'wechatpay-axios-plugin';

import { Order, Payment } from '../models';
import { notifyV2, notifySuccessXml } from '../lib/wechatpay/notify-v2';
import { parseFlatXml, toXml, XmlFormatError } from '../lib/wechatpay/xml';
import { startApp, TestApp, unpaidOrder } from './helpers';
import { paymentNotification } from './notifications';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

type Fields = Record<string, string | number>;

/** Signs with wechatpay-axios-plugin's Hash, so a shared bug in our sign code cannot pass for a valid signature. */
function signed(fields: Fields, key: string, signType: 'MD5' | 'HMAC-SHA256' = 'MD5'): Fields {
    return { ...fields, sign: Hash.sign(signType, fields, key) };
}

describe('parseFlatXml', () => {

    const refuses = async (xml: string | Buffer, message: RegExp) => {
        const err = await expect(parseFlatXml(xml)).to.reject(XmlFormatError);
        expect(err.message).to.match(message);
    };

    it('reads the forms WeChat sends: CDATA or not, references, empty elements, a declaration, a BOM', async () => {
        expect({ ...await parseFlatXml('<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <a><![CDATA[0012]]></a>\n  <b>7</b><c/><d></d><e >x&amp;y&lt;&#65;&#x4e2d;</e >\n</xml >\n') })
            .to.equal({ a: '0012', b: '7', c: '', d: '', e: 'x&y<A中' });
        expect({ ...await parseFlatXml(Buffer.from('\uFEFF<xml><a>中文</a></xml>')) }).to.equal({ a: '中文' });
        expect({ ...await parseFlatXml('\uFEFF<xml><a>&#xE000;&#x10FFFF;</a></xml>') }).to.equal({ a: '\uE000\u{10FFFF}' });
        expect({ ...await parseFlatXml('<xml/>') }).to.equal({});
        expect({ ...await parseFlatXml(toXml({ a: 'x]]>y', b: '<&>', c: 5 })) }).to.equal({ a: 'x]]>y', b: '<&>', c: '5' });
    });

    it('refuses anything after the root: junk, a second root, a comment', async () => {
        await refuses('<xml><a>1</a></xml>junk', /after the root/);
        await refuses('<xml><a>1</a></xml><xml><a>2</a></xml>', /after the root/);
        await refuses('<xml><a>1</a></xml><!-- x -->', /after the root/);
        await refuses('<xml/><xml/>', /after the root/);
        await refuses('<xml><a>1</a></xml>\n<', /after the root/);
    });

    it('refuses what the protocol never sends', async () => {
        await refuses('junk<xml/>', /root element must be <xml>/);
        await refuses('<xmlx><a>1</a></xmlx>', /root element must be <xml>/);
        await refuses('', /root element must be <xml>/);
        await refuses('<xml><a x="1">1</a></xml>', /attributes/);
        await refuses('<xml><a><b>1</b></a></xml>', /text only/);
        await refuses('<xml><a>1</b></xml>', /closed by another name/);
        await refuses('<xml><a>1</a></xmlx>', /closed by another name/);
        await refuses('<xml><a>1</a></xml', /malformed/);
        await refuses('<xml><a>1</a><a>2</a></xml>', /more than once/);
        await refuses('<xml><constructor>1</constructor></xml>', /not accepted/);
        await refuses('<xml><a>1</a>', /<xml> is not closed/);
        await refuses('<xml><a>1', /<a> is not closed/);
        await refuses('<xml><a><![CDATA[1</a></xml>', /CDATA section in <a> is not closed/);
        await refuses('<xml>text<a>1</a></xml>', /text directly inside/);
        await refuses('<xml><!-- x --><a>1</a></xml>', /comments/);
        await refuses('<xml><?pi x?></xml>', /processing instructions/);
        await refuses('<xml><1a>1</1a></xml>', /ASCII letters/);
        await refuses('<xml><a-b>1</a-b></xml>', /malformed/);
        await refuses('<xml><a>]]></a></xml>', /outside CDATA/);
        await refuses('<xml><a>&foo;</a></xml>', /references/);
        await refuses('<xml><a>&#0;</a></xml>', /forbids/);
        await refuses('<xml><a>&#xD800;</a></xml>', /not a character/);
        await refuses('<xml><a>&#1114112;</a></xml>', /not a character/);
        await refuses('<xml><a>\u0001</a></xml>', /forbids/);
        await refuses('<!DOCTYPE xml><xml/>', /DTD/);
        await refuses(Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e]), /UTF-8/);
    });
});

describe('the v2 notify protocol (lib/wechatpay/notify-v2)', () => {

    const key = Crypto.randomBytes(16).toString('hex');
    const protocol = notifyV2(key);
    const paid: Fields = { appid: 'wx0123456789abcdef', mch_id: '1900000109', nonce_str: 'n1', out_trade_no: 'T20240101', result_code: 'SUCCESS', return_code: 'SUCCESS', time_end: '20240101120000', total_fee: 100, transaction_id: '4200000001202401010000000001' };
    const decide = (xml: string) => protocol.decide(Buffer.from(xml), { 'content-type': 'text/xml' });

    it('decides "paid" with the verified trade', async () => {
        const decision = await decide(toXml(signed(paid, key)));
        expect(decision.verdict).to.equal('paid');
        expect(decision.verdict === 'paid' && decision.trade).to.include({ outTradeNo: 'T20240101', transactionId: '4200000001202401010000000001', totalFee: 100, appId: 'wx0123456789abcdef', mchId: '1900000109' });
    });

    it('refuses malformed and unverifiable bodies with a FAIL 400, saying why', async () => {
        const malformed = await decide(`${toXml(signed(paid, key))}junk`);
        expect(malformed).to.include({ verdict: 'refused' });
        expect(malformed.verdict === 'refused' && malformed.reason).to.match(/not WeChat XML: content after the root/);
        expect(malformed.verdict === 'refused' && malformed.reply).to.equal({ statusCode: 400, contentType: 'text/xml', body: toXml({ return_code: 'FAIL', return_msg: 'malformed XML' }) });

        const forged = await decide(toXml(signed(paid, `${key}x`)));
        expect(forged).to.include({ verdict: 'refused', outTradeNo: 'T20240101' });
        expect(forged.verdict === 'refused' && forged.reply.body).to.equal(toXml({ return_code: 'FAIL', return_msg: 'invalid signature' }));
    });

    it('acknowledges a genuine notification that reports no payment', async () => {
        const decision = await decide(toXml(signed({ ...paid, result_code: 'FAIL', err_code: 'NOTENOUGH' }, key)));
        expect(decision).to.include({ verdict: 'no-payment', note: 'SUCCESS/FAIL NOTENOUGH' });
        expect(decision.verdict === 'no-payment' && decision.reply).to.equal({ statusCode: 200, contentType: 'text/xml', body: notifySuccessXml });

        const { out_trade_no: _, ...anonymous } = paid;
        expect(await decide(toXml(signed({ ...anonymous, return_code: 'FAIL', result_code: '' }, key)))).to.include({ verdict: 'no-payment', note: 'FAIL/', outTradeNo: undefined });
    });

    it('replies success to every outcome but a rejected payment', () => {
        for (const outcome of ['applied', 'duplicate', 'refund_required'] as const) {
            expect(protocol.replyTo(outcome)).to.equal({ statusCode: 200, contentType: 'text/xml', body: notifySuccessXml });
        }

        expect(protocol.replyTo('rejected')).to.equal({ statusCode: 400, contentType: 'text/xml', body: toXml({ return_code: 'FAIL', return_msg: 'notification does not match the order' }) });
    });
});

describe('both sides refuse trailing content and agree on an empty sign_type', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
    });
    after(() => app.stop());

    const notification = (order: { outTradeNo: string; totalFee: number }, extra: Fields = {}) => paymentNotification(app, order, extra);

    const notify = (payload: string) => app.server.inject({ method: 'POST', url: '/orders/pay/notify', headers: { 'content-type': 'text/xml' }, payload });
    const statusOf = async (orderId: number) => (await Order.findByPk(orderId))!.status;

    /** A v2 request to the simulator mounted at /sandbox, as raw bytes. */
    const simV2 = async (path: string, body: string) => {
        const res = await app.server.inject({ method: 'POST', url: `/sandbox${path}`, headers: { 'content-type': 'text/xml' }, payload: body });
        return { fields: { ...await parseFlatXml(res.payload) }, text: res.payload };
    };

    const orderRequest = (extra: Fields = {}): Fields => ({
        appid: app.config.wechat.appId,
        mch_id: app.config.pay.mchId,
        nonce_str: Crypto.randomBytes(8).toString('hex'),
        body: 'test',
        out_trade_no: `T${Crypto.randomBytes(8).toString('hex')}`,
        total_fee: 1,
        spbill_create_ip: '127.0.0.1',
        notify_url: `${app.base}/orders/pay/notify`,
        trade_type: 'NATIVE',
        product_id: '1',
        ...extra
    });

    const queried = async (outTradeNo: string) => (await simV2('/pay/orderquery', toXml(signed({ appid: app.config.wechat.appId, mch_id: app.config.pay.mchId, nonce_str: 'q1', out_trade_no: outTradeNo }, app.config.pay.apiKey)))).fields;

    it('the backend answers FAIL to a signed notification followed by junk or a second root, and changes nothing', async () => {
        const { order } = await unpaidOrder(app);
        const xml = toXml(signed(notification(order), app.config.pay.apiKey));
        const second = toXml(signed(notification(order, { transaction_id: '4200000000000000000000000999' }), app.config.pay.apiKey));
        for (const body of [`${xml}junk`, `${xml}${second}`, `${xml}<!-- -->`]) {
            const res = await notify(body);
            expect(res.statusCode).to.equal(400);
            expect(res.payload).to.equal(toXml({ return_code: 'FAIL', return_msg: 'malformed XML' }));
        }

        expect(await statusOf(order.id)).to.equal('unpaid');
        expect(await Payment.count({ where: { orderId: order.id } })).to.equal(0);

        // The same notification alone is genuine: it was the trailing content that was refused.
        const res = await notify(`${xml}\n`);
        expect(res.statusCode).to.equal(200);
        expect(res.payload).to.equal(notifySuccessXml);
        expect(await statusOf(order.id)).to.equal('paid');
    });

    it('the simulator answers XML格式错误 to a signed request followed by junk or a second root, and creates no trade', async () => {
        for (const trailer of ['junk', toXml(signed(orderRequest(), app.config.pay.apiKey)), '<!-- -->']) {
            const request = orderRequest();
            const answer = await simV2('/pay/unifiedorder', `${toXml(signed(request, app.config.pay.apiKey))}${trailer}`);
            expect(answer.fields).to.equal({ return_code: 'FAIL', return_msg: 'XML格式错误' });
            expect(await queried(String(request.out_trade_no))).to.include({ result_code: 'FAIL', err_code: 'ORDERNOTEXIST' });
        }

        const request = orderRequest();
        const answer = await simV2('/pay/unifiedorder', toXml(signed(request, app.config.pay.apiKey)));
        expect(answer.fields.result_code, answer.text).to.equal('SUCCESS');
        expect(await queried(String(request.out_trade_no))).to.include({ result_code: 'SUCCESS', trade_state: 'NOTPAY' });
    });

    it('the backend takes an empty sign_type as MD5: not signed, and an HMAC-SHA256 signature is refused', async () => {
        const md5 = await unpaidOrder(app);
        const accepted = await notify(toXml(signed(notification(md5.order, { sign_type: '' }), app.config.pay.apiKey, 'MD5')));
        expect(accepted.statusCode).to.equal(200);
        expect(await statusOf(md5.order.id)).to.equal('paid');

        const hmac = await unpaidOrder(app);
        const refused = await notify(toXml(signed(notification(hmac.order, { sign_type: '' }), app.config.pay.apiKey, 'HMAC-SHA256')));
        expect(refused.statusCode).to.equal(400);
        expect(refused.payload).to.equal(toXml({ return_code: 'FAIL', return_msg: 'invalid signature' }));
        expect(await statusOf(hmac.order.id)).to.equal('unpaid');
    });

    it('the backend acknowledges a genuine notification of no payment, even without out_trade_no', async () => {
        const res = await notify(toXml(signed({ appid: app.config.wechat.appId, mch_id: app.config.pay.mchId, nonce_str: 'n2', return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'NOTENOUGH' }, app.config.pay.apiKey)));
        expect(res.statusCode).to.equal(200);
        expect(res.payload).to.equal(notifySuccessXml);
    });

    it('the simulator takes an empty sign_type as MD5 too: an MD5 request passes and is answered with MD5, an HMAC-SHA256 one fails', async () => {
        const answer = await simV2('/pay/unifiedorder', toXml(signed(orderRequest({ sign_type: '' }), app.config.pay.apiKey, 'MD5')));
        expect(answer.fields.result_code, answer.text).to.equal('SUCCESS');
        expect(answer.fields.sign).to.equal(Hash.sign('MD5', answer.fields, app.config.pay.apiKey));

        const refused = await simV2('/pay/unifiedorder', toXml(signed(orderRequest({ sign_type: '' }), app.config.pay.apiKey, 'HMAC-SHA256')));
        expect(refused.fields).to.equal({ return_code: 'FAIL', return_msg: '签名错误' });
    });
});
