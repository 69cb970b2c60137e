import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import axios from 'axios';

import { PayV3Error } from '../lib/wechatpay/v3/errors';
import { eventually, sleep } from './helpers';
import { startV3World, tradeNo, V3Receiver, V3World } from './v3-helpers';

/** The simulator's v3 side on its own: key export, given keys, limits and notification delivery rules. */

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const http = axios.create({ validateStatus: () => true, proxy: false });
const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

describe('simulator, API v3', () => {
    let world: V3World;
    let receiver: V3Receiver;
    let notifyUrl: string;

    before(async () => {
        receiver = new V3Receiver();
        notifyUrl = await receiver.start();
    });

    after(async () => {
        await receiver.server.stop({ timeout: 100 });
        await world?.stop();
    });

    const prepay = (outTradeNo = tradeNo(), total = 100, url = notifyUrl) => world.client('publicKey').prepay({ tradeType: 'JSAPI', outTradeNo, description: 'x', total, openid, notifyUrl: url, timeExpire: new Date(world.sandbox.clock.now() + 600_000) });
    /** The delivery log of one event once it has `count` entries. */
    const attempts = (key: string, count: number) => eventually(async () => {
        const entries = (await http.get(`${world.base}/__sim/v3/notifications`)).data.filter((entry: any) => entry.key === key);
        return entries.length === count && entries;
    }, `${count} attempts for ${key}`);
    const pay = async (prepayId: string) => http.post(`${world.base}/__sim/v3/pay`, { prepayId, ...world.client('publicKey').requestPayment(prepayId) });

    it('signs as WeChat with the key it is given (SANDBOX_WECHATPAY_PRIVATE_KEY) and exports its public half and certificates', async () => {
        const wechatpay = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        const id = 'PUB_KEY_ID_0112860886012025062700111588000000';
        world = await startV3World('publicKey', { notifySchedule: [1, 1], notifyTimeoutMs: 200 }, { wechatpayPrivateKey: wechatpay.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyId: id });
        const { data } = await http.get(`${world.base}/__sim/v3/keys`);
        expect(data.mode).to.equal('publicKey');
        expect(data.publicKeyId).to.equal(id);
        expect(data.publicKey).to.equal(Crypto.createPublicKey(wechatpay).export({ type: 'spki', format: 'pem' }));
        expect(data.platformCertificates).to.have.length(1);
        expect(new Crypto.X509Certificate(data.platformCertificates[0].certificate).serialNumber).to.equal(data.platformCertificates[0].serial);
        const { prepayId } = await prepay();
        expect(prepayId).to.exist();
    });

    it('an out_trade_no ordered under v2 cannot be ordered again under v3', async () => {
        const outTradeNo = tradeNo();
        world.sandbox.trades.create({ outTradeNo, appid: world.appId, mchId: world.mchId, signType: 'MD5', signTypeGiven: false, fingerprint: '', tradeType: 'JSAPI', totalFee: 100, feeType: 'CNY', notifyUrl, openid });
        const err = await expect(prepay(outTradeNo)).to.reject(PayV3Error);
        expect(err).to.include({ errCode: 'OUT_TRADE_NO_USED', status: 403 });
    });

    it('refunds: by transaction_id, at most 50 per trade, within a year, with valid fields only', async () => {
        await http.post(`${world.base}/__sim/v3/settings`, { refundIntervalSeconds: 0, autoSettleRefunds: false });
        const client = world.client('publicKey');
        const outTradeNo = tradeNo();
        const { prepayId } = await prepay(outTradeNo, 100);
        const { data: paid } = await pay(prepayId!);
        const post = (body: any) => client['call']('POST', '/v3/refund/domestic/refunds', body) as Promise<any>;
        const byTransaction = await post({ transaction_id: paid.transactionId, out_refund_no: `R${tradeNo()}`, amount: { refund: 1, total: 100 } });
        expect(byTransaction).to.include({ out_trade_no: outTradeNo, status: 'PROCESSING' });
        for (const body of [{ out_refund_no: 'bad refund no', out_trade_no: outTradeNo, amount: { refund: 1, total: 100 } }, { out_refund_no: 'R1', amount: { refund: 1, total: 100 } }, { out_refund_no: 'R1', out_trade_no: outTradeNo, amount: { refund: 1, total: 100, currency: 'USD' } }]) {
            await expect(post(body)).to.reject(PayV3Error, /PARAM_ERROR/);
        }

        for (let i = 1; i < 50; ++i) {
            await client.refund({ outTradeNo, outRefundNo: `R${i}${tradeNo()}`, refund: 1, total: 100 });
        }

        const limited = await expect(client.refund({ outTradeNo, outRefundNo: `R${tradeNo()}`, refund: 1, total: 100 })).to.reject(PayV3Error);
        expect(limited).to.include({ errCode: 'RULE_LIMIT', status: 403 });

        const old = tradeNo();
        const { prepayId: oldPrepay } = await prepay(old);
        await pay(oldPrepay!);
        world.sandbox.clock.advance(366 * 86400_000);
        const late = await expect(client.refund({ outTradeNo: old, outRefundNo: `R${tradeNo()}`, refund: 1, total: 100 })).to.reject(PayV3Error);
        expect(late.message).to.contain('一年');
    });

    it('the phone refuses unknown code_urls and closed trades', async () => {
        expect((await http.post(`${world.base}/__sim/v3/pay`, { codeUrl: 'weixin://wxpay/bizpayurl?pr=nope' })).status).to.equal(404);
        const outTradeNo = tradeNo();
        const client = world.client('publicKey');
        const { codeUrl } = await client.prepay({ tradeType: 'NATIVE', outTradeNo, description: 'x', total: 1, notifyUrl, timeExpire: new Date(world.sandbox.clock.now() + 600_000) });
        world.sandbox.clock.advance(5 * 60_000);
        await client.close(outTradeNo);
        const closed = await http.post(`${world.base}/__sim/v3/pay`, { codeUrl });
        expect(closed.status).to.equal(409);
        expect(closed.data.message).to.contain('ORDER_CLOSED');
    });

    it('notifications: a delayed one arrives late; an unreachable or slow merchant is retried on the schedule, then given up', async () => {
        expect((await http.post(`${world.base}/__sim/v3/notify-faults`, { mode: 'delay', delayMs: 150 })).status).to.equal(204);
        receiver.received.length = 0;
        const delayed = tradeNo();
        const started = Date.now();
        await pay((await prepay(delayed)).prepayId!);
        await eventually(() => receiver.received.length === 1, 'the delayed notification');
        expect(Date.now() - started).to.be.at.least(140);

        const unreachable = tradeNo();
        await pay((await prepay(unreachable, 100, 'http://127.0.0.1:9/notify')).prepayId!);
        const refused = await attempts(unreachable, 3);
        expect(refused.every((entry: any) => entry.outcome === 'failed' && entry.error)).to.be.true();

        receiver.answer = async () => {
            await sleep(400);
            return { status: 204 };
        };
        try {
            const slow = tradeNo();
            await pay((await prepay(slow)).prepayId!);
            const timedOut = await attempts(slow, 3);
            expect(timedOut[0].error).to.equal('no reply within 200 ms');
        }
        finally {
            receiver.answer = () => ({ status: 204 });
        }
    });

    it('a 200 whose body says FAIL counts as received, as WeChat has it; other 2xx do not', async () => {
        receiver.answer = () => ({ status: 200, body: { code: 'FAIL', message: 'oops' } });
        try {
            const outTradeNo = tradeNo();
            await pay((await prepay(outTradeNo)).prepayId!);
            const entries = await attempts(outTradeNo, 1);
            expect(entries.map((entry: any) => entry.outcome)).to.equal(['success']);
            expect(entries[0].httpStatus).to.equal(200);
            receiver.answer = () => ({ status: 202 });
            const accepted = tradeNo();
            await pay((await prepay(accepted)).prepayId!);
            const failed = await attempts(accepted, 3);
            expect(failed.map((entry: any) => entry.outcome)).to.equal(['failed', 'failed', 'failed']);
        }
        finally {
            receiver.answer = () => ({ status: 204 });
        }
    });

    it('stopping the simulator cancels pending notification retries', async () => {
        receiver.answer = () => ({ status: 500 });
        const outTradeNo = tradeNo();
        await http.post(`${world.base}/__sim/settings`, { msPerScheduleSecond: 10_000 });
        await pay((await prepay(outTradeNo)).prepayId!);
        await eventually(() => world.sandbox.v3!.notifier.log.some((entry) => entry.key === outTradeNo), 'the first attempt');
        await world.stop();
        expect(world.sandbox.waits.pending).to.equal(0);
        receiver.answer = () => ({ status: 204 });
    });

    it('hook payloads are validated', async () => {
        world = await startV3World('platform');
        for (const [path, payload] of [['/__sim/v3/faults', { endpoint: 'nope', kind: 'errcode' }], ['/__sim/v3/settings', { mode: 'v4' }], ['/__sim/v3/notify-faults', { mode: 'delay' }], ['/__sim/v3/pay', {}]] as const) {
            expect((await http.post(`${world.base}${path}`, payload)).status, path).to.equal(400);
        }

        expect((await http.post(`${world.base}/__sim/v3/settings`, { mode: 'switch' })).data.mode).to.equal('switch');
    });
});
