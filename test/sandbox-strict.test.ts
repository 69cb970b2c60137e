import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import axios from 'axios';

import { AdjustableClock, maxClockOffsetMs } from '../lib/clock';
import { Params, signV2 } from '../lib/wechatpay/sign';
import { formatBeijingCompact } from '../lib/wechatpay/time';
import { parseFlatXml, toXml } from '../lib/wechatpay/xml';
import type { Sandbox } from '../sandbox';
import { setBounded } from '../sandbox/bounded';
import { SimClock } from '../sandbox/clock';
import { startSandboxServer } from '../sandbox/server';
import { maxKeptTrades, Trades } from '../sandbox/trades';
import { sandboxCredentials } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const http = axios.create({ validateStatus: () => true, proxy: false, responseType: 'text', transformResponse: (data) => data });
const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

/** The simulator's rules that are WeChat's are on by default; each knob turns one off by name (issue 9). */
describe('the simulator is as strict as WeChat by default', () => {

    const credentials = sandboxCredentials();
    let base: string;
    let sandbox: Sandbox;
    let stop: () => Promise<void>;
    before(async () => {
        const started = await startSandboxServer(credentials);
        base = started.server.info.uri;
        sandbox = started.sandbox;
        stop = () => started.server.stop();
        await hook('settings', { msPerScheduleSecond: 0 });
    });
    after(() => stop());

    async function v2(path: string, fields: Params): Promise<Record<string, string>> {
        const params: Params = { appid: credentials.appId, mch_id: credentials.mchId, nonce_str: Crypto.randomBytes(8).toString('hex'), ...fields };
        params.sign = signV2(params, credentials.apiKey, 'MD5');
        const res = await http.post(`${base}${path}`, toXml(params), { headers: { 'content-type': 'text/xml' } });
        return { ...await parseFlatXml(res.data) };
    }

    async function hook(path: string, payload: object): Promise<{ status: number; body: any }> {
        const res = await http.post(`${base}/__sim/${path}`, JSON.stringify(payload), { headers: { 'content-type': 'application/json' } });
        return { status: res.status, body: res.data ? JSON.parse(res.data) : undefined };
    }

    const now = () => sandbox.clock.now();

    async function order(overrides: Params = {}): Promise<{ outTradeNo: string; prepayId: string; answer: Record<string, string> }> {
        const outTradeNo = `S${Date.now()}${Crypto.randomBytes(4).toString('hex')}`;
        const answer = await v2('/pay/unifiedorder', {
            body: 'strict', out_trade_no: outTradeNo, total_fee: 100, spbill_create_ip: '127.0.0.1', notify_url: 'http://127.0.0.1:9/notify',
            trade_type: 'JSAPI', openid, ...overrides
        });
        return { outTradeNo, prepayId: answer.prepay_id, answer };
    }

    function signedPay(prepayId: string) {
        const fields = { appId: credentials.appId, timeStamp: String(Math.floor(now() / 1000)), nonceStr: 'n0nce', package: `prepay_id=${prepayId}`, signType: 'MD5' };
        return hook('pay', { prepayId, ...fields, paySign: signV2(fields, credentials.apiKey, 'MD5') });
    }

    async function withSettings(settings: object, run: () => Promise<void>): Promise<void> {
        const saved = { ...sandbox.settings };
        await hook('settings', settings);
        try {
            await run();
        }
        finally {
            Object.assign(sandbox.settings, saved);
        }
    }

    it('refuses a first time_expire less than 5 minutes ahead; timeExpireMinMinutes turns that off', async () => {
        const soon = formatBeijingCompact(new Date(now() + 4 * 60_000));
        const refused = await order({ time_expire: soon });
        expect(refused.answer).to.include({ result_code: 'FAIL', err_code: 'INVALID_REQUEST' });
        expect(refused.answer.err_code_des).to.contain('time_expire时间过短');
        expect((await order({ time_expire: formatBeijingCompact(new Date(now() + 5 * 60_000 + 2000)) })).answer.result_code).to.equal('SUCCESS');
        await withSettings({ timeExpireMinMinutes: 0 }, async () => {
            expect((await order({ time_expire: soon })).answer.result_code).to.equal('SUCCESS');
        });
    });

    it('the phone pays a prepay_id only with a valid paySign; requirePaySign turns that off', async () => {
        const { prepayId } = await order();
        const bare = await hook('pay', { prepayId });
        expect(bare.status).to.equal(400);
        expect(bare.body.message).to.contain('paySign');
        await withSettings({ requirePaySign: false }, async () => {
            expect((await hook('pay', { prepayId })).status).to.equal(200);
        });
    });

    it('REFUND: a refunded trade is answered as such by orderquery, and ORDERPAID by closeorder and unifiedorder', async () => {
        const placed = await order();
        expect((await hook('refund', { outTradeNo: placed.outTradeNo })).status).to.equal(409);       // unpaid
        expect((await hook('refund', { outTradeNo: 'nope' })).status).to.equal(404);
        expect((await signedPay(placed.prepayId)).status).to.equal(200);
        const refunded = await hook('refund', { outTradeNo: placed.outTradeNo });
        expect(refunded.body).to.equal({ outTradeNo: placed.outTradeNo, tradeState: 'REFUND' });
        const query = await v2('/pay/orderquery', { out_trade_no: placed.outTradeNo });
        expect(query).to.include({ result_code: 'SUCCESS', trade_state: 'REFUND', total_fee: '100' });
        expect(query.transaction_id).to.match(/^\d{28}$/);
        sandbox.clock.advance(5 * 60_000);
        expect((await v2('/pay/closeorder', { out_trade_no: placed.outTradeNo })).err_code).to.equal('ORDERPAID');
        expect((await order()).answer.result_code).to.equal('SUCCESS');
    });

    it('closeLagMs: closeorder succeeds but the trade stays payable until the lag has passed', async () => {
        await withSettings({ closeLagMs: 60_000 }, async () => {
            const lagging = await order();
            const late = await order();
            sandbox.clock.advance(5 * 60_000);
            for (const { outTradeNo } of [lagging, late]) {
                expect((await v2('/pay/closeorder', { out_trade_no: outTradeNo })).result_code).to.equal('SUCCESS');
            }

            expect((await v2('/pay/orderquery', { out_trade_no: lagging.outTradeNo })).trade_state).to.equal('NOTPAY');
            expect((await signedPay(lagging.prepayId)).status).to.equal(200);
            sandbox.clock.advance(60_000);
            expect((await v2('/pay/orderquery', { out_trade_no: late.outTradeNo })).trade_state).to.equal('CLOSED');
            expect((await signedPay(late.prepayId)).status).to.equal(409);
        });
    });

    it('payAfterExpireMs: a trade can be paid that long after its time_expire, and not after', async () => {
        await withSettings({ payAfterExpireMs: 30_000 }, async () => {
            const first = await order({ time_expire: formatBeijingCompact(new Date(now() + 6 * 60_000)) });
            const second = await order({ time_expire: formatBeijingCompact(new Date(now() + 6 * 60_000)) });
            sandbox.clock.advance(6 * 60_000 + 10_000);
            expect((await signedPay(first.prepayId)).status).to.equal(200);
            sandbox.clock.advance(30_000);
            expect((await signedPay(second.prepayId)).status).to.equal(410);
        });
    });

    it('POST /__sim/clock refuses to move the clock past 10 years in all', async () => {
        expect((await hook('clock', { advanceMs: maxClockOffsetMs + 1 })).status).to.equal(400);
        const clock = new AdjustableClock();
        expect(clock.advance(maxClockOffsetMs)).to.be.true();
        expect(clock.advance(1)).to.be.false();
        expect(clock.advance(-1)).to.be.false();
        expect(clock.now() - Date.now()).to.be.within(maxClockOffsetMs - 1000, maxClockOffsetMs + 1000);
        expect(formatBeijingCompact(new Date(clock.now()))).to.match(/^\d{14}$/);
    });

    it('keeps its in-memory maps bounded: the oldest entries are forgotten first', () => {
        const map = new Map<number, string>();
        for (let i = 0; i < 10; ++i) {
            setBounded(map, i, `v${i}`, 3);
        }

        expect([...map.keys()]).to.equal([7, 8, 9]);
        expect(setBounded(map, 7, 'again', 3)).to.equal([]);
        expect([...map.keys()]).to.equal([8, 9, 7]);

        const trades = new Trades(new SimClock());
        const first = trades.create({ outTradeNo: 'first', appid: 'a', mchId: 'm', signType: 'MD5', signTypeGiven: false, fingerprint: '', tradeType: 'NATIVE', totalFee: 1, feeType: 'CNY', notifyUrl: '' });
        trades.pay(first, openid);
        for (let i = 0; i < maxKeptTrades; ++i) {
            trades.create({ outTradeNo: `t${i}`, appid: 'a', mchId: 'm', signType: 'MD5', signTypeGiven: false, fingerprint: '', tradeType: 'JSAPI', totalFee: 1, feeType: 'CNY', notifyUrl: '' });
        }

        expect(trades.size).to.equal(maxKeptTrades);
        expect(trades.find('first')).to.not.exist();
        expect(trades.findPrepay(first.prepay.id)).to.not.exist();
        expect(trades.findCodeUrl(first.prepay.codeUrl!)).to.not.exist();
        expect(trades.findByTransactionId(first.transactionId!)).to.not.exist();
        expect(trades.find('t0')).to.exist();
    });
});
