import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { runRefundJobs } from '../lib/refunds/jobs';
import { requestRefund } from '../lib/refunds/request';
import { PayError } from '../lib/wechatpay/client';
import { queryRefund, submitRefund } from '../lib/wechatpay/refund';
import { Refund } from '../models';
import { advanceClocks, sim, TestApp } from './helpers';
import { eventuallyRefund, paidOrder, refundContext, startRefundApp } from './refund-support';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('the simulator\'s refunds', () => {

    let app: TestApp;
    before(async () => {
        app = await startRefundApp();
        await sim(app, 'settings', { msPerScheduleSecond: 1 });
    });
    after(() => app.stop());

    const pay = () => app.context.pay;
    let counter = 0;
    const ask = (outTradeNo: string, refundFee: number, extra: { outRefundNo?: string; totalFee?: number } = {}) => submitRefund(pay(), {
        outTradeNo,
        outRefundNo: extra.outRefundNo ?? `RSIM${Date.now()}${++counter}`,
        totalFee: extra.totalFee ?? 1000,
        refundFee,
        reason: 'sim',
        notifyUrl: `${app.base}/orders/refund/notify`
    });

    const refusedWith = async (promise: Promise<unknown>, errCode: string) => {
        const err = await expect(promise).to.reject(PayError);
        expect((err as PayError).errCode).to.equal(errCode);
    };

    it('answers a re-entry with the same content with the same refund, refuses other content, and checks amounts', async () => {
        // Off by name: several refunds of one trade in a row; the minute's spacing has its own test below.
        await sim(app, 'settings', { refundSpacingSeconds: 0 });
        try {
            const { order } = await paidOrder(app, { price: 1000 });
            await sim(app, 'refund-outcomes', { outcome: 'HOLD', times: 3, outTradeNo: order.outTradeNo });
            const first = await ask(order.outTradeNo, 400, { outRefundNo: 'RSIM-reentry-1' });
            expect(await ask(order.outTradeNo, 400, { outRefundNo: 'RSIM-reentry-1' })).to.equal(first);
            await refusedWith(ask(order.outTradeNo, 401, { outRefundNo: 'RSIM-reentry-1' }), 'INVALID_REQUEST');
            await refusedWith(ask(order.outTradeNo, 601), 'ERROR');                          // 400 + 601 > 1000
            await refusedWith(ask(order.outTradeNo, 100, { totalFee: 999 }), 'PARAM_ERROR');
            await refusedWith(ask('T-no-such-trade', 100), 'ORDERNOTEXIST');
            await ask(order.outTradeNo, 600);
            await refusedWith(ask(order.outTradeNo, 1), 'ERROR');                            // all of it refunded or in flight

            const state = await queryRefund(pay(), 'RSIM-reentry-1');
            expect(state).to.equal({ outRefundNo: 'RSIM-reentry-1', refundId: first.refundId, refundFee: 400, status: 'PROCESSING' });
            expect(await queryRefund(pay(), 'RSIM-unknown')).to.be.undefined();
            const trade = await pay().orderQuery(order.outTradeNo);
            expect(trade.state).to.equal('REFUND');
        }
        finally {
            await sim(app, 'settings', { refundSpacingSeconds: 60 });
        }
    });

    it('refuses a second refund of one trade within a minute by default (FREQUENCY_LIMITED), not after the clock moves', async () => {
        const { order } = await paidOrder(app, { price: 1000 });
        await ask(order.outTradeNo, 100);
        await refusedWith(ask(order.outTradeNo, 100), 'FREQUENCY_LIMITED');
        await sim(app, 'clock', { advanceMs: 60_000 });
        await ask(order.outTradeNo, 100);
    });

    it('allows 50 refunds of a trade and refuses the 51st', async () => {
        // Off by name: 51 refunds a minute apart would be 51 clock moves; the spacing has its own test.
        await sim(app, 'settings', { refundSpacingSeconds: 0 });
        try {
            const { order } = await paidOrder(app, { price: 1000 });
            for (let i = 0; i < 50; ++i) {
                await ask(order.outTradeNo, 1);
            }

            await refusedWith(ask(order.outTradeNo, 1), 'ERROR');
            expect((await sim(app, 'refunds', undefined, 'GET')).body.filter((entry: any) => entry.outTradeNo === order.outTradeNo)).to.have.length(50);
        }
        finally {
            await sim(app, 'settings', { refundSpacingSeconds: 60 });
        }
    });

    it('a refund whose answer was lost is sent again with the same out_refund_no and made once', async () => {
        const { order } = await paidOrder(app, { price: 1000 });
        await sim(app, 'refund-outcomes', { outcome: 'HOLD', outTradeNo: order.outTradeNo });
        await sim(app, 'faults', { endpoint: 'refund', kind: 'errcode', code: 'SYSTEMERROR', times: 3 });
        const { refund } = await requestRefund(refundContext(app), { orderId: order.id, amount: 1000, reason: 'retry', actor: { kind: 'staff', id: 2 } });
        expect(refund.submittedAt).to.be.null();
        expect(refund.attempts).to.equal(1);
        expect(refund.failure).to.contain('SYSTEMERROR');

        // The next try times out at our end although WeChat made the refund; the one after gets WeChat's answer.
        await sim(app, 'faults', { endpoint: 'refund', kind: 'timeout', delayMs: 1500, times: 3 });
        await advanceClocks(app, 61_000);
        await runRefundJobs(refundContext(app));
        expect((await Refund.findByPk(refund.id))!.submittedAt).to.be.null();
        await advanceClocks(app, 61_000);
        await runRefundJobs(refundContext(app));
        const sent = (await Refund.findByPk(refund.id))!;
        expect(sent.submittedAt).to.not.be.null();
        expect(sent.outRefundNo).to.equal(refund.outRefundNo);
        expect((await sim(app, 'refunds/complete', { outRefundNo: refund.outRefundNo, outcome: 'SUCCESS' })).statusCode).to.equal(204);
        await eventuallyRefund(refund.id, 'succeeded');
        const made = (await sim(app, 'refunds', undefined, 'GET')).body.filter((entry: any) => entry.outTradeNo === order.outTradeNo);
        expect(made.map((entry: any) => entry.outRefundNo)).to.equal([refund.outRefundNo]);
    });

    it('a refund WeChat refuses for good ends failed and frees its amount', async () => {
        const { order } = await paidOrder(app, { price: 1000 });
        await sim(app, 'faults', { endpoint: 'refund', kind: 'errcode', code: 'TRADE_OVERDUE' });
        const { refund } = await requestRefund(refundContext(app), { orderId: order.id, amount: 1000, reason: 'late', actor: { kind: 'staff', id: 2 } });
        expect(refund.status).to.equal('failed');
        expect(refund.wechatStatus).to.equal('TRADE_OVERDUE');
        const row = (await app.context.models.Order.findByPk(order.id))!;
        expect([row.status, row.refundReservedFee, row.refundedFee]).to.equal(['paid', 0, 0]);
    });

    it('refundquery failures and PROCESSING answers keep a refund processing and ask again later', async () => {
        const { order } = await paidOrder(app, { price: 1000 });
        await sim(app, 'refund-outcomes', { outcome: 'HOLD', outTradeNo: order.outTradeNo });
        const { refund } = await requestRefund(refundContext(app), { orderId: order.id, amount: 1000, reason: 'slow', actor: { kind: 'staff', id: 3 } });
        await sim(app, 'faults', { endpoint: 'refundquery', kind: 'http500', times: 3 });
        await advanceClocks(app, 11_000);
        await runRefundJobs(refundContext(app));
        const afterFailure = (await Refund.findByPk(refund.id))!;
        expect([afterFailure.status, afterFailure.attempts]).to.equal(['processing', 2]);
        expect(afterFailure.nextAttemptAt!.getTime()).to.be.above(app.context.clock.now());

        await advanceClocks(app, 109_000);
        await runRefundJobs(refundContext(app));       // WeChat: still PROCESSING
        const stillProcessing = (await Refund.findByPk(refund.id))!;
        expect([stillProcessing.status, stillProcessing.attempts]).to.equal(['processing', 3]);

        await sim(app, 'refunds/complete', { outRefundNo: refund.outRefundNo, outcome: 'SUCCESS' });
        await eventuallyRefund(refund.id, 'succeeded');
        await advanceClocks(app, 3480_000);
        await runRefundJobs(refundContext(app));       // nothing left to ask about
        expect((await Refund.findByPk(refund.id))!.attempts).to.equal(3);
    });

    it('rejects hook input it cannot act on', async () => {
        expect((await sim(app, 'refunds/complete', { outRefundNo: 'R-none', outcome: 'SUCCESS' })).statusCode).to.equal(404);
        expect((await sim(app, 'refund-outcomes', { outcome: 'MAYBE' })).statusCode).to.equal(400);
        expect((await sim(app, 'refund-notify-faults', { mode: 'delay' })).statusCode).to.equal(400);
    });
});
