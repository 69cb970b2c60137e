import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { json, sim, startApp, TestApp } from './helpers';
import { ops, paidOrder } from './shipping-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe("the simulator's mini-program server APIs are as strict as WeChat", () => {

    let app: TestApp;
    let token: string;
    before(async () => {
        app = await startApp();
        token = await app.context.ops.tokens.get();
    });
    after(() => app.stop());

    const call = (api: string, body: unknown, accessToken = token) => json(app.server, {
        method: 'POST', url: `/sandbox${api}?access_token=${encodeURIComponent(accessToken)}`,
        payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' }
    });
    const upload = (body: unknown) => call('/wxa/sec/order/upload_shipping_info', body);
    const errcodeOf = async (body: unknown) => (await upload(body)).body.errcode;
    const time = (offsetMs = 0) => new Date(Date.now() + 8 * 3600_000 + offsetMs).toISOString().replace('Z', '+08:00');

    it('upload_shipping_info: the sync lag, then each rule with its errcode', async () => {
        const { transactionId, user } = await paidOrder(app);
        const base = {
            order_key: { order_number_type: 2, transaction_id: transactionId, mchid: app.config.pay.mchId },
            logistics_type: 1, delivery_mode: 1,
            shipping_list: [{ tracking_no: 'SF1', express_company: 'SF', item_desc: 'x', contact: { receiver_contact: '189****1234' } }],
            upload_time: time(), payer: { openid: user.openid }
        };
        expect(await errcodeOf(base)).to.equal(10060001);                      // payment not synced yet (60 s)
        await sim(app, 'clock', { advanceMs: 61_000 });

        const cases: Array<[object | string, number]> = [
            ['not json', 47001],
            [{ ...base, shipping_list: base.shipping_list[0] }, 47001],
            [{ ...base, order_key: { order_number_type: 3 } }, 268485194],
            [{ ...base, order_key: { order_number_type: 2 } }, 268485195],
            [{ ...base, order_key: { order_number_type: 1, out_trade_no: 'x' } }, 268485196],
            [{ ...base, order_key: { order_number_type: 1, mchid: app.config.pay.mchId } }, 268485197],
            [{ ...base, order_key: { order_number_type: 2, transaction_id: '4200000000000000000000000000' } }, 10060001],
            [{ ...base, logistics_type: 9 }, 10060005],
            [{ ...base, delivery_mode: 3 }, 268485224],
            [{ ...base, logistics_type: 2, delivery_mode: 2, is_all_delivered: true }, 10060006],
            [{ ...base, delivery_mode: 2 }, 10060007],
            [{ ...base, shipping_list: [] }, 268485228],
            [{ ...base, shipping_list: [base.shipping_list[0], base.shipping_list[0]] }, 268485228],
            [{ ...base, delivery_mode: 2, is_all_delivered: true, shipping_list: Array(11).fill(base.shipping_list[0]) }, 10060024],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], item_desc: '' }] }, 10060008],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], item_desc: '货'.repeat(121) }] }, 10060009],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], tracking_no: undefined }] }, 268485226],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], express_company: undefined }] }, 268485227],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], tracking_no: 'T'.repeat(129) }] }, 10060026],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], express_company: 'NOPE' }] }, 10060014],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], contact: undefined }] }, 10060014],
            [{ ...base, shipping_list: [{ ...base.shipping_list[0], contact: { receiver_contact: '18912341234' } }] }, 10060014],
            [{ ...base, upload_time: Math.floor(Date.now() / 1000) }, 268485216],
            [{ ...base, upload_time: time().replace('+08:00', ' 08:00') }, 268485216],
            [{ ...base, payer: { openid: 'o_someone_else_000000000000' } }, 10060031]
        ];
        for (const [body, errcode] of cases) {
            expect(await errcodeOf(body), JSON.stringify(body).slice(0, 200)).to.equal(errcode);
        }

        expect(await errcodeOf(base)).to.equal(0);
        expect(await errcodeOf(base)).to.equal(10060023);                                            // unchanged
        expect(await errcodeOf({ ...base, upload_time: time(-60_000), shipping_list: [{ ...base.shipping_list[0], tracking_no: 'SF2' }] })).to.equal(10060014);   // not later
        expect(await errcodeOf({ ...base, upload_time: time(1000), shipping_list: [{ ...base.shipping_list[0], tracking_no: 'SF2' }] })).to.equal(0);         // the re-ship
        expect(await errcodeOf({ ...base, upload_time: time(2000), shipping_list: [{ ...base.shipping_list[0], tracking_no: 'SF3' }] })).to.equal(10060003);
        const record = (await call('/wxa/sec/order/get_order', { transaction_id: transactionId })).body;
        expect(record.order).to.include({ order_state: 2 });
        expect(record.order.shipping).to.include({ finish_shipping: true, finish_shipping_count: 2 });

        expect((await call('/wxa/sec/order/get_order', {})).body.errcode).to.equal(10060014);
        await ops(app, 'confirm-receipt', { transactionId });
        expect(await errcodeOf({ ...base, upload_time: time(3000) })).to.equal(10060004);             // settled
        expect((await ops(app, 'confirm-receipt', { transactionId })).statusCode).to.equal(409);
    });

    it('token-bearing calls: 41001, 40001, 42001; a trade-unmanaged account gets 48001', async () => {
        expect((await call('/wxa/sec/order/get_order', { transaction_id: 'x' }, '')).body.errcode).to.equal(41001);
        expect((await call('/wxa/sec/order/get_order', { transaction_id: 'x' }, 'forged')).body.errcode).to.equal(40001);
        expect((await call('/wxa/sec/order/is_trade_managed', {})).body.errcode).to.equal(40097);
        expect((await call('/wxa/sec/order/is_trade_managed', { appid: 'wx0000000000000000' })).body.errcode).to.equal(40013);
        await ops(app, 'settings', { tradeManaged: false });
        expect((await call('/wxa/sec/order/is_trade_managed', { appid: app.config.wechat.appId })).body).to.include({ errcode: 0, is_trade_managed: false });
        expect((await call('/wxa/sec/order/get_order', { transaction_id: 'x' })).body.errcode).to.equal(48001);
        expect((await upload({})).body.errcode).to.equal(48001);
        await ops(app, 'settings', { tradeManaged: true });
        await sim(app, 'clock', { advanceMs: 7200_000 });
        expect((await call('/wxa/sec/order/get_order', { transaction_id: 'x' })).body.errcode).to.equal(42001);
        // the client fetches again once and repeats the call: it succeeds
        expect(await app.context.ops.api.post('/cgi-bin/express/delivery/open_msg/get_delivery_list', {})).to.include({ errcode: 0 });
        token = await app.context.ops.tokens.get();
    });

    it('stable_token: its errors, and force_refresh at most 20 a day, not twice within 30 s', async () => {
        const stable = (body: object) => json(app.server, { method: 'POST', url: '/sandbox/cgi-bin/stable_token', payload: body });
        const credentials = { grant_type: 'client_credential', appid: app.config.wechat.appId, secret: app.config.wechat.secret };
        expect((await stable({ ...credentials, grant_type: 'password' })).body.errcode).to.equal(40002);
        expect((await stable({ ...credentials, appid: undefined })).body.errcode).to.equal(41002);
        expect((await stable({ ...credentials, secret: undefined })).body.errcode).to.equal(41004);
        expect((await stable({ ...credentials, appid: 'wx0000000000000000' })).body.errcode).to.equal(40013);
        expect((await stable({ ...credentials, secret: 'wrong' })).body.errcode).to.equal(40125);
        const same = [(await stable(credentials)).body, (await stable(credentials)).body];
        expect(same[0].access_token).to.equal(same[1].access_token);

        const first = (await stable({ ...credentials, force_refresh: true })).body.access_token;
        expect((await stable({ ...credentials, force_refresh: true })).body.access_token).to.equal(first);      // within 30 s: no refresh
        for (let i = 1; i < 20; ++i) {
            await sim(app, 'clock', { advanceMs: 31_000 });
            expect((await stable({ ...credentials, force_refresh: true })).body.access_token).to.not.equal(first);
        }

        await sim(app, 'clock', { advanceMs: 31_000 });
        expect((await stable({ ...credentials, force_refresh: true })).body.errcode).to.equal(45009);
    });

    it('subscribe send: 40003, 40037, 47003 for a value past its limit, 43101 without an acceptance', async () => {
        token = await app.context.ops.tokens.get(token);          // the forced refreshes above killed the one we held
        const send = (body: object) => call('/cgi-bin/message/subscribe/send', body);
        const openid = 'o_buyer_0000000000000000000';
        const data = { thing1: { value: '短' } };
        expect((await send({ template_id: 't', data })).body.errcode).to.equal(40003);
        expect((await send({ touser: openid, data })).body.errcode).to.equal(40037);
        expect((await send({ touser: openid, template_id: 't' })).body.errcode).to.equal(47003);
        expect((await send({ touser: openid, template_id: 't', data: { thing1: { value: 'x'.repeat(21) } } })).body.errmsg).to.contain('data.thing1.value invalid');
        expect((await send({ touser: openid, template_id: 't', data })).body.errcode).to.equal(43101);
        await ops(app, 'subscribe', { openid, templateId: 't' });
        expect((await send({ touser: openid, template_id: 't', data })).body.errcode).to.equal(0);
        expect((await send({ touser: openid, template_id: 't', data })).body.errcode).to.equal(43101);
        expect((await ops(app, 'subscribe', { transactionId: '4200000000000000000000000000', templateId: 't' })).statusCode).to.equal(404);
    });
});
