import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { closeClosedAtWechat } from '../lib/orders/close';
import { RefundRefused } from '../lib/refunds/context';
import { runRefundJobs } from '../lib/refunds/jobs';
import { requestRefund } from '../lib/refunds/request';
import { decryptReqInfo, encryptReqInfo } from '../lib/wechatpay/req-info';
import { toXml } from '../lib/wechatpay/xml';
import { Goods, Order, Refund } from '../models';
import { advanceClocks, eventually, eventuallyStatus, getOrder, json, pay, sim, startApp, TestApp, unpaidOrder } from './helpers';
import { eventuallyRefund, orderRow, paidOrder, refundContext, startRefundApp } from './refund-support';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const staff = { kind: 'staff' as const, id: 7 };

describe('refund notification req_info (reference §7 vector 3)', () => {

    const apiKey = '192006250b4c09247ec02edce69f6a2d';
    const plaintext = '<root><out_refund_no><![CDATA[R1001]]></out_refund_no><out_trade_no><![CDATA[T1001]]></out_trade_no><refund_account><![CDATA[REFUND_SOURCE_RECHARGE_FUNDS]]></refund_account><refund_fee><![CDATA[100]]></refund_fee><refund_id><![CDATA[50000408942018111907145868882]]></refund_id><refund_recv_accout><![CDATA[支付用户零钱]]></refund_recv_accout><refund_request_source><![CDATA[API]]></refund_request_source><refund_status><![CDATA[SUCCESS]]></refund_status><settlement_refund_fee><![CDATA[100]]></settlement_refund_fee><settlement_total_fee><![CDATA[100]]></settlement_total_fee><success_time><![CDATA[2018-11-19 16:24:13]]></success_time><total_fee><![CDATA[100]]></total_fee><transaction_id><![CDATA[4200000215201811190261405420]]></transaction_id></root>';

    it('encrypts with AES-256-ECB under the md5 hex of the API key, as the vector', () => {
        const encrypted = encryptReqInfo(plaintext, apiKey);
        expect(encrypted.startsWith('WBzGpzQuNpcFxIlFjUUD9BZv+lpBMzd2SHiKCkwfALXYZbBxc2iVCvpGkl+TF4Lh1dAFrSxGLX2FjzErqr3p4+4j0oETuoMc4WzJ1jBduIfW5nTH')).to.be.true();
        // The reference prints the end as "…Pem+1LYzkAvfEP+…"; the bytes before "+1LYzk" differ from what it prints, the rest agrees.
        expect(encrypted.endsWith('+1LYzkAvfEP+WvGfpQa5ZDB4qteA5rfwzLS6i')).to.be.true();
        expect(decryptReqInfo(encrypted, apiKey)).to.equal(plaintext);
    });

    it('does not decrypt with another key', () => {
        expect(() => decryptReqInfo(encryptReqInfo(plaintext, apiKey), 'ffffffffffffffffffffffffffffffff')).to.throw();
    });
});

describe('refunds', () => {

    let app: TestApp;
    before(async () => {
        app = await startRefundApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    const refund = (orderId: number, amount: number, extra: Partial<Parameters<typeof requestRefund>[1]> = {}) =>
        requestRefund(refundContext(app), { orderId, amount, reason: 'customer returned it', actor: staff, ...extra });

    const refused = async (promise: Promise<unknown>, statusCode: RefundRefused['statusCode'], message: RegExp) => {
        const err = await expect(promise).to.reject(RefundRefused);
        expect((err as RefundRefused).statusCode).to.equal(statusCode);
        expect(err.message).to.match(message);
    };

    /** Moves both clocks past WeChat's one-minute spacing and runs the refund jobs as of then. */
    const afterSpacing = async (minutes = 1) => {
        await advanceClocks(app, minutes * 61_000);
        await runRefundJobs(refundContext(app));
    };

    it('refunds a whole order: paid → refunding → refunded once the notification says SUCCESS', async () => {
        const { user, order } = await paidOrder(app, { price: 1990 });
        await sim(app, 'refund-outcomes', { outcome: 'HOLD', outTradeNo: order.outTradeNo });
        const { refund: made, replayed } = await refund(order.id, 1990);
        expect(replayed).to.be.false();
        expect(made.status).to.equal('processing');
        expect(made.submittedAt).to.not.be.null();
        expect(made.refundId).to.match(/^\d{29}$/);
        expect(made.outRefundNo).to.match(/^R\d{14}[0-9A-Za-z]{16}$/);
        expect((await getOrder(app, user, order.id)).body.status).to.equal('refunding');

        const complete = await sim(app, 'refunds/complete', { outRefundNo: made.outRefundNo, outcome: 'SUCCESS' });
        expect(complete.statusCode).to.equal(204);
        const refunded = await eventuallyStatus(app, user, order.id, 'refunded');
        expect(refunded.refundedFee).to.equal(1990);
        const done = await eventuallyRefund(made.id, 'succeeded');
        expect(done.wechatStatus).to.equal('SUCCESS');
        const deliveries = (await sim(app, 'notifications', undefined, 'GET')).body.filter((entry: any) => entry.outRefundNo === made.outRefundNo);
        expect(deliveries.map((entry: any) => entry.outcome)).to.equal(['success']);
        // WeChat's side: the trade now shows REFUND.
        const sync = await getOrder(app, user, order.id, true);
        expect(sync.body.status).to.equal('refunded');
        expect((await sim(app, 'refunds/complete', { outRefundNo: made.outRefundNo, outcome: 'SUCCESS' })).statusCode).to.equal(409);
    });

    it('queues a second refund of one order until WeChat\'s minute has passed, then sends it; partial then the rest', async () => {
        const { user, order } = await paidOrder(app, { price: 1000 });
        const first = (await refund(order.id, 300)).refund;
        await eventuallyRefund(first.id, 'succeeded');
        expect((await eventuallyStatus(app, user, order.id, 'paid')).refundedFee).to.equal(300);

        const second = (await refund(order.id, 700)).refund;
        expect(second.status).to.equal('processing');
        expect(second.submittedAt).to.be.null();                 // queued: WeChat would answer FREQUENCY_LIMITED
        expect(second.nextAttemptAt!.getTime() - (await orderRow(order.id)).refundSubmittedAt!.getTime()).to.equal(61_000);
        expect((await getOrder(app, user, order.id)).body.status).to.equal('refunding');
        await runRefundJobs(refundContext(app));    // not yet due
        expect((await Refund.findByPk(second.id))!.submittedAt).to.be.null();

        await afterSpacing();
        expect((await Refund.findByPk(second.id))!.submittedAt).to.not.be.null();
        await eventuallyRefund(second.id, 'succeeded');
        const refunded = await eventuallyStatus(app, user, order.id, 'refunded');
        expect(refunded.refundedFee).to.equal(1000);
        const simRefunds = (await sim(app, 'refunds', undefined, 'GET')).body.filter((entry: any) => entry.outTradeNo === order.outTradeNo);
        expect(simRefunds.map((entry: any) => entry.refundFee)).to.equal([300, 700]);
    });

    it('two refunds of the whole amount at once: exactly one is made', async () => {
        const { order } = await paidOrder(app, { price: 500 });
        await sim(app, 'refund-outcomes', { outcome: 'HOLD', outTradeNo: order.outTradeNo });         // only one reaches WeChat
        const results = await Promise.allSettled([refund(order.id, 500), refund(order.id, 500)]);
        const made = results.filter((result) => result.status === 'fulfilled');
        const lost = results.filter((result) => result.status === 'rejected') as PromiseRejectedResult[];
        expect(made).to.have.length(1);
        expect(lost).to.have.length(1);
        expect(lost[0].reason).to.be.an.instanceof(RefundRefused);
        expect(lost[0].reason.message).to.match(/exceeds the 0 fen still refundable/);
        expect(await Refund.count({ where: { orderId: order.id } })).to.equal(1);
        const row = await orderRow(order.id);
        expect(row.refundReservedFee).to.equal(500);
        expect(row.refundCount).to.equal(1);
    });

    it('refuses bad input and refunds the order cannot take, changing nothing', async () => {
        const { order } = await paidOrder(app, { price: 800 });
        await refused(refund(order.id, 0), 400, /positive integer/);
        await refused(refund(order.id, 1.5), 400, /positive integer/);
        await refused(refund(order.id, 100, { reason: '' }), 400, /reason/);
        await refused(refund(order.id, 100, { reason: 'x'.repeat(81) }), 400, /reason/);
        await refused(refund(order.id, 100, { idempotencyKey: 'has space' }), 400, /idempotency key/);
        await refused(refund(order.id, 801), 409, /exceeds the 800 fen/);
        await refused(refund(987654, 100), 404, /not found/);
        const unpaid = await unpaidOrder(app);
        await refused(refund(unpaid.order.id, 100), 409, /unpaid cannot be refunded/);
        const row = await orderRow(order.id);
        expect([row.status, row.refundReservedFee, row.refundCount]).to.equal(['paid', 0, 0]);
        expect(await Refund.count({ where: { orderId: [order.id, unpaid.order.id] } })).to.equal(0);
    });

    it('an idempotency key answers the refund it made; with another request it is a 409; at once it makes one', async () => {
        const { order } = await paidOrder(app, { price: 900 });
        await sim(app, 'refund-outcomes', { outcome: 'HOLD', times: 2, outTradeNo: order.outTradeNo });
        const first = await refund(order.id, 100, { idempotencyKey: 'refund-abc' });
        const again = await refund(order.id, 100, { idempotencyKey: 'refund-abc' });
        expect(again.replayed).to.be.true();
        expect(again.refund.id).to.equal(first.refund.id);
        await refused(refund(order.id, 200, { idempotencyKey: 'refund-abc' }), 409, /another refund request/);
        const racing = await Promise.all([refund(order.id, 50, { idempotencyKey: 'refund-race' }), refund(order.id, 50, { idempotencyKey: 'refund-race' })]);
        expect(racing[0].refund.id).to.equal(racing[1].refund.id);
        expect(racing.filter((result) => result.replayed)).to.have.length(1);
        expect(await Refund.count({ where: { orderId: order.id } })).to.equal(2);
        expect((await orderRow(order.id)).refundReservedFee).to.equal(150);
    });

    it('a lost refund notification is caught by refundquery', async () => {
        const { user, order } = await paidOrder(app, { price: 640 });
        await sim(app, 'refund-notify-faults', { mode: 'drop', outTradeNo: order.outTradeNo });
        const made = (await refund(order.id, 640)).refund;
        await eventually(async () => (await sim(app, 'refunds', undefined, 'GET')).body.find((entry: any) => entry.outRefundNo === made.outRefundNo && entry.status === 'SUCCESS'), 'the simulator to finish the refund');
        expect((await Refund.findByPk(made.id))!.status).to.equal('processing');
        await runRefundJobs(refundContext(app));          // the first query is not due yet
        expect((await Refund.findByPk(made.id))!.status).to.equal('processing');
        await advanceClocks(app, 11_000);
        await runRefundJobs(refundContext(app));
        expect((await Refund.findByPk(made.id))!.status).to.equal('succeeded');
        expect((await getOrder(app, user, order.id)).body).to.include({ status: 'refunded', refundedFee: 640 });
    });

    it('CHANGE (abnormal) fails the refund and releases its amount; the order is paid again', async () => {
        const { user, order } = await paidOrder(app, { price: 700 });
        await sim(app, 'refund-outcomes', { outcome: 'CHANGE', outTradeNo: order.outTradeNo });
        const made = (await refund(order.id, 700)).refund;
        const failed = await eventuallyRefund(made.id, 'failed');
        expect(failed.wechatStatus).to.equal('CHANGE');
        expect((await eventuallyStatus(app, user, order.id, 'paid')).refundedFee).to.equal(0);
        expect((await orderRow(order.id)).refundReservedFee).to.equal(0);
        // Here the amount is refundable again, but WeChat still holds an abnormal refund's money (a person settles it in
        // the merchant platform): a new refund of it is refused, and ends failed with WeChat's reason.
        const retry = (await refund(order.id, 700)).refund;
        expect(retry.outRefundNo).to.not.equal(made.outRefundNo);
        expect(retry.submittedAt).to.be.null();
        await afterSpacing();
        const refusedRetry = await eventuallyRefund(retry.id, 'failed');
        expect(refusedRetry.wechatStatus).to.equal('ERROR');
        expect(refusedRetry.failure).to.contain('申请退款金额超过订单可退金额');
        expect((await eventuallyStatus(app, user, order.id, 'paid')).refundedFee).to.equal(0);
    });

    it('REFUNDCLOSE found by refundquery closes the refund and releases its amount', async () => {
        const { user, order } = await paidOrder(app, { price: 450 });
        await sim(app, 'refund-outcomes', { outcome: 'REFUNDCLOSE', outTradeNo: order.outTradeNo });
        await sim(app, 'refund-notify-faults', { mode: 'drop', outTradeNo: order.outTradeNo });
        const made = (await refund(order.id, 200)).refund;
        await eventually(async () => (await sim(app, 'refunds', undefined, 'GET')).body.find((entry: any) => entry.outRefundNo === made.outRefundNo && entry.status === 'REFUNDCLOSE'), 'the simulator to close the refund');
        await advanceClocks(app, 11_000);
        await runRefundJobs(refundContext(app));
        const closed = (await Refund.findByPk(made.id))!;
        expect([closed.status, closed.wechatStatus]).to.equal(['closed', 'REFUNDCLOSE']);
        expect((await getOrder(app, user, order.id)).body).to.include({ status: 'paid', refundedFee: 0 });
        expect((await orderRow(order.id)).refundReservedFee).to.equal(0);
    });

    it('gives stock back only when restock says so, and only once', async () => {
        const { order, goodsId } = await paidOrder(app, { price: 100, count: 3, stock: 10 });
        const stock = async () => (await Goods.findByPk(goodsId))!.stock;
        expect(await stock()).to.equal(7);
        const plain = (await refund(order.id, 100)).refund;
        await eventuallyRefund(plain.id, 'succeeded');
        expect(await stock()).to.equal(7);

        const restocking = (await refund(order.id, 100, { restock: true })).refund;
        await afterSpacing();
        await eventuallyRefund(restocking.id, 'succeeded');
        expect(await stock()).to.equal(10);

        const again = (await refund(order.id, 100, { restock: true })).refund;
        await afterSpacing(2);
        await eventuallyRefund(again.id, 'succeeded');
        expect(await stock()).to.equal(10);
        expect((await orderRow(order.id)).status).to.equal('refunded');
    });

    it('refunds a payment that arrived for a closed order, in full, once, by a job', async () => {
        const placed = await unpaidOrder(app, { price: 1234 });
        const params = (await pay(app, placed.user, placed.order.id)).body;
        await sim(app, 'notify-faults', { mode: 'delay', delayMs: 300 });
        await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
        expect(await closeClosedAtWechat(app.context, (await Order.findByPk(placed.order.id))!)).to.be.true();      // closed here while WeChat took the money
        const flagged = await eventually(async () => {
            const view = (await getOrder(app, placed.user, placed.order.id)).body;
            return view.refundRequired && view;
        }, 'the late payment to be flagged');
        expect(flagged.status).to.equal('closed');

        await runRefundJobs(refundContext(app));
        await runRefundJobs(refundContext(app));
        const refunds = await Refund.findAll({ where: { orderId: placed.order.id } });
        expect(refunds).to.have.length(1);
        expect(refunds[0].get({ plain: true })).to.include({ amount: 1234, actorKind: 'system', restock: false });
        await eventuallyRefund(refunds[0].id, 'succeeded');
        expect((await getOrder(app, placed.user, placed.order.id)).body).to.include({ status: 'closed', refundedFee: 1234, refundRequired: false });
    });

    describe('POST /orders/refund/notify', () => {

        const notify = (payload: string) => app.server.inject({ method: 'POST', url: '/orders/refund/notify', payload, headers: { 'content-type': 'text/xml' } });

        const outer = (fields: Record<string, string | number>, key = app.config.pay.apiKey, merchant: Record<string, string> = {}) => toXml({
            return_code: 'SUCCESS',
            appid: app.config.wechat.appId,
            mch_id: app.config.pay.mchId,
            nonce_str: 'n0nce',
            ...merchant,
            req_info: encryptReqInfo(toXml(fields, 'root'), key)
        });

        it('refuses what does not decrypt, is not ours or does not match, and changes nothing; a duplicate changes nothing', async () => {
            const { order } = await paidOrder(app, { price: 321 });
            await sim(app, 'refund-outcomes', { outcome: 'HOLD', outTradeNo: order.outTradeNo });
            const made = (await refund(order.id, 321)).refund;
            const fields = { out_refund_no: made.outRefundNo, out_trade_no: order.outTradeNo, refund_fee: 321, refund_status: 'SUCCESS', refund_id: made.refundId! };
            for (const body of [
                outer(fields, 'ffffffffffffffffffffffffffffffff'),
                outer(fields, undefined, { mch_id: '1234567890' }),
                outer({ ...fields, refund_fee: 320 }),
                outer({ ...fields, out_trade_no: 'T-another' }),
                outer({ ...fields, out_refund_no: 'R-unknown' }),
                outer({ ...fields, refund_status: 'PROCESSING' }),
                '<xml><return_code>SUCCESS</return_code>',
                '<!DOCTYPE x [<!ENTITY e "e">]><xml><req_info>&e;</req_info></xml>'
            ]) {
                const res = await notify(body);
                expect(res.statusCode).to.equal(400);
                expect(res.payload).to.contain('FAIL');
            }

            expect((await Refund.findByPk(made.id))!.status).to.equal('processing');
            expect((await notify(toXml({ return_code: 'FAIL', return_msg: 'nothing' }))).statusCode).to.equal(200);
            for (let i = 0; i < 2; ++i) {
                const res = await notify(outer(fields));
                expect(res.statusCode).to.equal(200);
                expect(res.payload).to.contain('SUCCESS');
            }

            expect((await orderRow(order.id)).get({ plain: true })).to.include({ status: 'refunded', refundedFee: 321 });
        });
    });
});

describe('refund limits', () => {

    let app: TestApp;
    before(async () => {
        app = await startRefundApp();
    });
    after(() => app.stop());

    const refund = (orderId: number, amount: number) => requestRefund(refundContext(app), { orderId, amount, reason: 'one fen at a time', actor: staff });

    it('at most 50 refunds per order', async () => {
        const { order } = await paidOrder(app, { price: 100 });
        for (let i = 0; i < 50; ++i) {
            await refund(order.id, 1);
        }

        const err = await expect(refund(order.id, 1)).to.reject(RefundRefused);
        expect(err.message).to.match(/at most 50 refunds/);
        const row = await orderRow(order.id);
        expect([row.refundCount, row.refundReservedFee]).to.equal([50, 50]);
        expect(await Refund.count({ where: { orderId: order.id } })).to.equal(50);
        // One was sent; WeChat's minute holds the other 49 in the queue.
        expect(await Refund.count({ where: { orderId: order.id, submittedAt: null } })).to.equal(49);
    });

});

describe('refunds without a merchant certificate', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
    });
    after(() => app.stop());

    it('are refused with a message naming the variables, and nothing changes', async () => {
        const placed = await unpaidOrder(app);
        const err = await expect(requestRefund(app.context.refunds, { orderId: placed.order.id, amount: 1, reason: 'r', actor: staff })).to.reject(RefundRefused);
        expect((err as RefundRefused).statusCode).to.equal(503);
        expect(err.message).to.contain('WECHATPAY_CERT');
        expect(await Refund.count()).to.equal(0);
        expect(json).to.exist();
    });
});
