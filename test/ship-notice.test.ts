import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { uploadShipments } from '../lib/jobs/shipments';
import { fitValue, valueProblem } from '../lib/wechat/subscribe-values';
import { Shipment } from '../models';
import { startApp, TestApp } from './helpers';
import { staffLogin, StaffLogin } from './merchant-helpers';
import { express, ops, paidOrder, ship } from './shipping-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('subscribe-message values (reference §4)', () => {

    it('cuts each value to its type and the simulator accepts the result', () => {
        const long = '微信气泡狗集线器超长的商品名称一二三四五六七八九十';
        expect([...fitValue('thing1', long)]).to.have.length(20);
        expect(valueProblem('thing1', long)).to.contain('invalid');
        expect(valueProblem('thing1', fitValue('thing1', long))).to.be.undefined();
        expect(fitValue('character_string2', 'SF 1234-中文-abc')).to.equal('SF1234--abc');
        expect(fitValue('character_string2', 'x'.repeat(40))).to.have.length(32);
        expect(fitValue('phrase3', '配送中的订单')).to.equal('配送中的订');
        expect(fitValue('name4', '张三李四王五赵六钱七孙八')).to.have.length(10);
        expect(fitValue('number5', '12a3.5')).to.equal('123.5');
        expect(valueProblem('amount6', '¥12.50')).to.be.undefined();
        expect(valueProblem('amount6', '12.5元')).to.be.undefined();
        expect(valueProblem('amount6', 'twelve')).to.contain('invalid');
        expect(valueProblem('thing1', '')).to.contain('empty');
        expect(valueProblem('unknown1', 'x')).to.contain('unknown');
    });
});

describe('the buyer is told when the order ships', () => {

    let app: TestApp;
    let operator: StaffLogin;
    before(async () => {
        app = await startApp({ WECHAT_SHIP_NOTICE_TEMPLATE: 'tmpl-ship-1', WECHAT_SHIP_NOTICE_FIELDS: 'thing1=goods,character_string2=trackingNo,thing3=expressCompany,date4=shippedAt,amount5=totalFee', WECHAT_SHIP_NOTICE_PAGE: 'pages/order/detail' });
        operator = await staffLogin(app, 'operator');
        await ops(app, 'settings', { shippingSyncLagSeconds: 0 });
    });
    after(() => app.stop());

    const messages = async () => (await ops(app, 'messages', undefined, 'GET')).body as Array<{ touser: string; templateId: string; page: string; data: Record<string, { value: string }> }>;
    const noticeOf = async (orderId: number) => (await Shipment.findOne({ where: { orderId } }))!.notice;

    it('sends the configured template to a buyer who subscribed, values within their limits', async () => {
        const { order, user } = await paidOrder(app, { count: 3 });
        await ops(app, 'subscribe', { openid: user.openid, templateId: 'tmpl-ship-1' });
        await ship(app, operator, order.id, express('SF20260101ABCDEFGHIJKLMNOPQRSTUVWXYZ'));
        await uploadShipments(app.context);
        expect(await noticeOf(order.id)).to.equal('sent');
        const sent = (await messages()).filter((message) => message.touser === user.openid);
        expect(sent).to.have.length(1);
        expect(sent[0].templateId).to.equal('tmpl-ship-1');
        expect(sent[0].page).to.equal(`pages/order/detail?orderId=${order.id}`);
        expect(sent[0].data.thing1.value).to.equal('Goods 1*3');
        expect(sent[0].data.character_string2.value).to.equal('SF20260101ABCDEFGHIJKLMNOPQRSTUV');      // cut to 32
        expect(sent[0].data.thing3.value).to.equal('顺丰速运');
        expect(sent[0].data.amount5.value).to.equal(`¥${(order.totalFee / 100).toFixed(2)}`);
        expect(sent[0].data.date4.value).to.match(/^\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d$/);
    });

    it('a buyer who did not subscribe (43101) is skipped quietly: the shipment is uploaded all the same', async () => {
        const { order, user } = await paidOrder(app);
        await ship(app, operator, order.id);
        expect(await uploadShipments(app.context)).to.equal(1);
        expect(await noticeOf(order.id)).to.equal('not_subscribed');
        expect((await messages()).filter((message) => message.touser === user.openid)).to.have.length(0);
        expect((await Shipment.findOne({ where: { orderId: order.id } }))!.uploadStatus).to.equal('uploaded');
    });

    it('one acceptance is one message: a re-ship sends none', async () => {
        const { order, user } = await paidOrder(app);
        await ops(app, 'subscribe', { openid: user.openid, templateId: 'tmpl-ship-1', times: 2 });
        await ship(app, operator, order.id);
        await uploadShipments(app.context);
        await ship(app, operator, order.id, express('SF999'));
        await uploadShipments(app.context, new Date(Date.now() + 10));
        expect((await messages()).filter((message) => message.touser === user.openid)).to.have.length(1);
    });

    it('skips uploads while the mini-program is not trade-managed, asking is_trade_managed once (cached)', async () => {
        await ops(app, 'settings', { tradeManaged: false });
        // This instance asked is_trade_managed already above (cached true): a new instance would ask afresh.
        const fresh = await startApp({ WECHAT_SHIP_NOTICE_TEMPLATE: 'tmpl-ship-1' });
        try {
            await ops(fresh, 'settings', { tradeManaged: false, shippingSyncLagSeconds: 0 });
            const staff = await staffLogin(fresh, 'operator');
            const first = await paidOrder(fresh);
            const second = await paidOrder(fresh);
            expect((await ship(fresh, staff, first.order.id)).statusCode).to.equal(201);
            expect((await ship(fresh, staff, second.order.id)).statusCode).to.equal(201);
            expect(await uploadShipments(fresh.context)).to.equal(0);
            for (const { order, transactionId } of [first, second]) {
                expect((await Shipment.findOne({ where: { orderId: order.id } }))!.uploadStatus).to.equal('skipped');
                expect((await ops(fresh, `orders/${transactionId}`, undefined, 'GET')).body.order_state).to.equal(1);
            }

            expect(fresh.sandbox.ops.tokens.calls.stableToken).to.equal(1);
            const calls = (await ops(fresh, 'api-calls', undefined, 'GET')).body;
            expect(calls.is_trade_managed).to.equal(1);
            expect(calls.upload_shipping_info).to.be.undefined();
        }
        finally {
            await fresh.stop();
        }
    });
});
