import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import axios from 'axios';

import type { PayV3Client } from '../lib/wechatpay/v3/client';
import { PayV3Error } from '../lib/wechatpay/v3/errors';
import { decodeNotification, failureReply, successReply, V3Notification } from '../lib/wechatpay/v3/notify';
import { authorizationHeader, requestMessage, rsaSign } from '../lib/wechatpay/v3/signature';
import { eventually } from './helpers';
import { startV3World, tradeNo, V3Receiver, V3World } from './v3-helpers';

const { expect } = Code;
const { describe, it, before, after, beforeEach } = exports.lab = Lab.script();

const http = axios.create({ validateStatus: () => true, proxy: false, responseType: 'text', transformResponse: (data) => data });
const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

let world: V3World;
let receiver: V3Receiver;
let notifyUrl: string;
let decoded: V3Notification[];
/** The client the receiver verifies notifications with (each test sets the one it uses). */
let receiving: PayV3Client;

async function sim(path: string, payload?: object) {
    const response = await http.request({ method: payload === undefined ? 'GET' : 'POST', url: `${world.base}${path}`, data: payload });
    return { status: response.status, body: response.data ? JSON.parse(response.data) : undefined };
}

async function settings(v3: object) {
    expect((await sim('/__sim/v3/settings', v3)).status).to.equal(200);
}

async function fault(endpoint: string, kind: string, extra: object = {}) {
    expect((await sim('/__sim/v3/faults', { endpoint, kind, ...extra })).status).to.equal(204);
}

function order(client: PayV3Client, outTradeNo = tradeNo(), total = 100, extra: object = {}) {
    return client.prepay({ tradeType: 'JSAPI', outTradeNo, description: '测试商品', total, openid, notifyUrl, timeExpire: new Date(world.sandbox.clock.now() + 15 * 60_000), ...extra });
}

/** Orders and lets the phone pay with wx.requestPayment parameters made by the client. */
async function paidOrder(client: PayV3Client, total = 100) {
    const outTradeNo = tradeNo();
    const { prepayId } = await order(client, outTradeNo, total);
    const paid = await sim('/__sim/v3/pay', { prepayId, ...client.requestPayment(prepayId!) });
    expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
    return { outTradeNo, transactionId: paid.body.transactionId as string };
}

function notificationFor(key: string, kind: 'payment' | 'refund') {
    return eventually(() => decoded.find((notification) => notification.kind === kind
        && (notification.kind === 'payment' ? notification.trade.outTradeNo : notification.refund.outRefundNo) === key), `a ${kind} notification for ${key}`);
}

async function expectPayError(promise: Promise<unknown>, expected: Partial<PayV3Error>) {
    const err = await expect(promise).to.reject(PayV3Error);
    expect(err).to.include(expected);
    return err as PayV3Error;
}

/** A v3 request signed as a merchant would, with the parts a test wants wrong. */
function signedRequest(method: 'GET' | 'POST', path: string, body: string, options: { serial?: string; timestamp?: string; signedBody?: string; headers?: Record<string, string | undefined> } = {}) {
    const timestamp = options.timestamp ?? String(Math.floor(world.sandbox.clock.now() / 1000));
    const nonce = Crypto.randomBytes(16).toString('hex');
    const signature = rsaSign(requestMessage(method, path, timestamp, nonce, options.signedBody ?? body), world.mchPrivateKey);
    const headers: Record<string, string | undefined> = {
        Accept: 'application/json',
        'User-Agent': 'test',
        'Content-Type': 'application/json',
        Authorization: authorizationHeader({ mchid: world.mchId, nonce_str: nonce, timestamp, serial_no: options.serial ?? world.mchSerial, signature }),
        ...options.headers
    };
    return http.request({ method, url: `${world.base}${path}`, data: method === 'POST' ? body : undefined, headers });
}

describe('API v3 client against the simulator', () => {

    before(async () => {
        world = await startV3World('publicKey');
        receiver = new V3Receiver();
        notifyUrl = await receiver.start();
        receiver.answer = async ({ headers, body }) => {
            try {
                decoded.push(await decodeNotification(headers, body, receiving.verifier, world.apiV3Key));
                return successReply;
            }
            catch (err) {
                const reply = failureReply((err as Error).message);
                return { status: reply.status, body: reply.body };
            }
        };
    });

    after(async () => {
        await receiver.server.stop({ timeout: 100 });
        await world.stop();
    });

    beforeEach(async () => {
        decoded = [];
        await settings({ mode: 'publicKey', refundIntervalSeconds: 60, autoSettleRefunds: true });
    });

    it('public-key mode: JSAPI prepay, the phone pays, the notification decodes to a PaidTrade, query agrees', async () => {
        const client = receiving = world.client('publicKey');
        const { outTradeNo, transactionId } = await paidOrder(client, 1234);
        const notification = await notificationFor(outTradeNo, 'payment');
        expect(notification.kind === 'payment' && notification.trade).to.include({ appId: world.appId, mchId: world.mchId, outTradeNo, transactionId, totalFee: 1234, openid });
        expect(notification.kind === 'payment' && notification.trade.timeEnd).to.match(/^\d{14}$/);
        const queried = await client.query(outTradeNo);
        expect(queried.state).to.equal('SUCCESS');
        expect(queried.state === 'SUCCESS' && queried.trade).to.include({ outTradeNo, transactionId, totalFee: 1234, openid });
        expect(await client.query(tradeNo())).to.equal({ state: 'ORDERNOTEXIST' });
        const log = (await sim('/__sim/v3/notifications')).body.filter((entry: any) => entry.key === outTradeNo);
        expect(log.map((entry: any) => [entry.outcome, entry.httpStatus, entry.serial])).to.equal([['success', 204, world.publicKeyId]]);
    });

    it('NATIVE prepay answers a code_url the phone scans; an unpaid order queries NOTPAY', async () => {
        const client = receiving = world.client('publicKey');
        const outTradeNo = tradeNo();
        const { codeUrl, prepayId } = await client.prepay({ tradeType: 'NATIVE', outTradeNo, description: 'QR', total: 50, notifyUrl, timeExpire: new Date(world.sandbox.clock.now() + 600_000) });
        expect(prepayId).to.be.undefined();
        expect(codeUrl).to.match(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
        expect(await client.query(outTradeNo)).to.equal({ state: 'NOTPAY' });
        expect((await sim('/__sim/v3/pay', { codeUrl })).status).to.equal(200);
        const notification = await notificationFor(outTradeNo, 'payment');
        expect(notification.kind === 'payment' && notification.trade.totalFee).to.equal(50);
    });

    it('refunds: PROCESSING, then SUCCESS with a REFUND.SUCCESS notification; idempotent by out_refund_no; limits enforced', async () => {
        const client = receiving = world.client('publicKey');
        const { outTradeNo, transactionId } = await paidOrder(client, 300);
        const outRefundNo = `R${tradeNo()}`;
        const refund = await client.refund({ outTradeNo, outRefundNo, refund: 100, total: 300, reason: '缺货', notifyUrl });
        expect(refund).to.include({ outRefundNo, outTradeNo, transactionId, status: 'PROCESSING', refund: 100, total: 300 });
        expect(refund.refundId).to.match(/^50\d{27}$/);
        const again = await client.refund({ outTradeNo, outRefundNo, refund: 100, total: 300, reason: '缺货', notifyUrl });
        expect(again.refundId).to.equal(refund.refundId);
        const notification = await notificationFor(outRefundNo, 'refund');
        expect(notification.kind === 'refund' && notification.eventType).to.equal('REFUND.SUCCESS');
        expect(notification.kind === 'refund' && notification.refund).to.include({ outRefundNo, refundId: refund.refundId, status: 'SUCCESS', refund: 100, total: 300 });
        expect((await client.queryRefund(outRefundNo)).status).to.equal('SUCCESS');
        expect((await client.query(outTradeNo)).state).to.equal('REFUND');

        await expectPayError(client.refund({ outTradeNo, outRefundNo, refund: 200, total: 300, notifyUrl }), { transient: false, errCode: 'INVALID_REQUEST', status: 400 });
        await expectPayError(client.refund({ outTradeNo, outRefundNo: `R${tradeNo()}`, refund: 100, total: 300 }), { transient: false, errCode: 'FREQUENCY_LIMITED', status: 429 });
        await settings({ refundIntervalSeconds: 0 });
        await expectPayError(client.refund({ outTradeNo, outRefundNo: `R${tradeNo()}`, refund: 201, total: 300 }), { errCode: 'INVALID_REQUEST' });
        await expectPayError(client.refund({ outTradeNo, outRefundNo: `R${tradeNo()}`, refund: 200, total: 301 }), { errCode: 'INVALID_REQUEST' });
        expect((await client.refund({ outTradeNo, outRefundNo: `R${tradeNo()}`, refund: 200, total: 300 })).status).to.equal('PROCESSING');
        await expectPayError(client.refund({ outTradeNo, outRefundNo: `R${tradeNo()}`, refund: 1, total: 300 }), { errCode: 'INVALID_REQUEST' });
        await expectPayError(client.queryRefund(`R${tradeNo()}`), { transient: false, errCode: 'RESOURCE_NOT_EXISTS', status: 404 });
        await expectPayError(client.refund({ outTradeNo: tradeNo(), outRefundNo: `R${tradeNo()}`, refund: 1, total: 1 }), { errCode: 'RESOURCE_NOT_EXISTS' });
        const unpaid = tradeNo();
        await order(client, unpaid);
        await expectPayError(client.refund({ outTradeNo: unpaid, outRefundNo: `R${tradeNo()}`, refund: 1, total: 100 }), { errCode: 'INVALID_REQUEST' });
    });

    it('a refund settled ABNORMAL or CLOSED by the hook notifies REFUND.ABNORMAL / REFUND.CLOSED; a closed refund gives its amount back', async () => {
        const client = receiving = world.client('publicKey');
        await settings({ autoSettleRefunds: false, refundIntervalSeconds: 0 });
        const { outTradeNo } = await paidOrder(client, 100);
        const first = `R${tradeNo()}`;
        await client.refund({ outTradeNo, outRefundNo: first, refund: 100, total: 100, notifyUrl });
        expect((await sim(`/__sim/v3/refunds/${first}`, { status: 'ABNORMAL' })).body.status).to.equal('ABNORMAL');
        const abnormal = await notificationFor(first, 'refund');
        expect(abnormal.kind === 'refund' && [abnormal.eventType, abnormal.refund.status]).to.equal(['REFUND.ABNORMAL', 'ABNORMAL']);
        decoded = [];
        expect((await sim(`/__sim/v3/refunds/${first}`, { status: 'CLOSED' })).status).to.equal(200);
        const closed = await notificationFor(first, 'refund');
        expect(closed.kind === 'refund' && closed.eventType).to.equal('REFUND.CLOSED');
        expect((await sim(`/__sim/v3/refunds/${first}`, { status: 'SUCCESS' })).status).to.equal(409);
        expect((await sim('/__sim/v3/refunds/nope', { status: 'SUCCESS' })).status).to.equal(404);
        expect((await client.refund({ outTradeNo, outRefundNo: `R${tradeNo()}`, refund: 100, total: 100 })).status).to.equal('PROCESSING');
    });

    it('close: refused inside the 5-minute window, 204 after it, ORDER_CLOSED tolerated, ORDERPAID recognisable', async () => {
        const client = receiving = world.client('publicKey');
        const { settings: shared, clock } = world.sandbox;
        const previous = shared.closeGuardMinutes;
        shared.closeGuardMinutes = 5;
        try {
            const outTradeNo = tradeNo();
            await order(client, outTradeNo);
            await expectPayError(client.close(outTradeNo), { transient: false, errCode: 'INVALID_REQUEST', status: 400 });
            clock.advance(5 * 60_000);
            await client.close(outTradeNo);
            expect(await client.query(outTradeNo)).to.equal({ state: 'CLOSED' });
            await client.close(outTradeNo);
            await expectPayError(order(client, outTradeNo), { errCode: 'ORDERCLOSED' });
            const paid = await paidOrder(client);
            clock.advance(5 * 60_000);
            await expectPayError(client.close(paid.outTradeNo), { transient: false, errCode: 'ORDERPAID' });
            await expectPayError(order(client, paid.outTradeNo), { errCode: 'ORDERPAID' });
            await expectPayError(client.close(tradeNo()), { errCode: 'ORDERNOTEXIST', status: 404 });
        }
        finally {
            shared.closeGuardMinutes = previous;
        }
    });

    it('re-entry: the same order answers the same prepay_id, a changed one OUT_TRADE_NO_USED; prepay_id lives 2 hours, time_expire is checked at pay time', async () => {
        const client = receiving = world.client('publicKey');
        const outTradeNo = tradeNo();
        const timeExpire = new Date(world.sandbox.clock.now() + 3 * 3600_000);
        const first = await order(client, outTradeNo, 100, { timeExpire });
        expect((await order(client, outTradeNo, 100, { timeExpire })).prepayId).to.equal(first.prepayId);
        await expectPayError(order(client, outTradeNo, 101, { timeExpire }), { transient: false, errCode: 'OUT_TRADE_NO_USED', status: 403 });
        world.sandbox.clock.advance(2 * 3600_000);
        const stale = await sim('/__sim/v3/pay', { prepayId: first.prepayId, ...client.requestPayment(first.prepayId!) });
        expect(stale.status).to.equal(410);
        const renewed = await order(client, outTradeNo, 100, { timeExpire });
        expect(renewed.prepayId).to.not.equal(first.prepayId);
        world.sandbox.clock.advance(3600_000 + 1000);
        const expired = await sim('/__sim/v3/pay', { prepayId: renewed.prepayId, ...client.requestPayment(renewed.prepayId!) });
        expect(expired.status).to.equal(410);
        expect(expired.body.message).to.contain('ORDER_EXPIRED');
        // A time_expire already past is refused (the classic UTC-as-Beijing bug sends one 8 hours early).
        await expectPayError(order(client, tradeNo(), 100, { timeExpire: new Date(world.sandbox.clock.now() - 8 * 3600_000) }), { errCode: 'INVALID_REQUEST' });
    });

    it('the phone checks paySign: RSA by the merchant key over the four lines, signType RSA, the order\'s appId and package', async () => {
        const client = receiving = world.client('publicKey');
        const { prepayId } = await order(client);
        const params = client.requestPayment(prepayId!);
        expect(params).to.include({ appId: world.appId, package: `prepay_id=${prepayId}`, signType: 'RSA' });
        const other = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        const forged = rsaSign(`${params.appId}\n${params.timeStamp}\n${params.nonceStr}\n${params.package}\n`, other);
        for (const [change, why] of [[{ paySign: forged }, /paySign/], [{ signType: 'MD5' }, /RSA/], [{ appId: 'wx0000000000000000' }, /appId/], [{ package: 'prepay_id=wx1' }, /package/], [{ paySign: undefined }, /required/]] as const) {
            const res = await sim('/__sim/v3/pay', { prepayId, ...params, ...change });
            expect(res.status).to.equal(400);
            expect(res.body.message).to.match(why);
        }

        expect((await sim('/__sim/v3/pay', { prepayId, ...params, openid: 'oSomeoneElse0000000000000000' })).status).to.equal(400);
        expect((await sim('/__sim/v3/pay', { prepayId: 'wx-nope', ...params })).status).to.equal(404);
        expect((await sim('/__sim/v3/pay', { prepayId, ...params })).status).to.equal(200);
        expect((await sim('/__sim/v3/pay', { prepayId, ...params })).status).to.equal(409);
    });

    it('platform-certificate mode: certificates downloaded and decrypted on first use; a public-key-only client cannot verify', async () => {
        await settings({ mode: 'platform' });
        const client = receiving = world.client('platform');
        const { outTradeNo } = await paidOrder(client);
        expect(client.certificates!.downloads).to.equal(1);
        expect(client.certificates!.serials).to.equal([world.sandbox.v3!.keys.newestPlatform.serial]);
        const notification = await notificationFor(outTradeNo, 'payment');
        expect(notification.kind).to.equal('payment');
        await expectPayError(world.client('publicKey').query(outTradeNo), { transient: true, errCode: undefined });
        // A public-key merchant has no platform certificates: 403 NOT_ENOUGH, signed with the public key, so only a
        // client that has the public key can believe it; to a certificate-only client it is unverifiable (transient).
        await settings({ mode: 'publicKey' });
        await expectPayError(world.client('switch').downloadCertificates(), { transient: false, errCode: 'NOTENOUGH', status: 403 });
        await expectPayError(world.client('platform').downloadCertificates(), { transient: true, errCode: undefined });
    });

    it('an unknown serial in certificate mode makes ONE refresh however many answers carry it', async () => {
        await settings({ mode: 'platform' });
        const outTradeNo = tradeNo();
        await order(world.client('platform'), outTradeNo);
        const client = world.client('platform', { attempts: 1 });
        await fault('query', 'unknownserial', { times: 16 });
        const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.query(outTradeNo)));
        expect(results.every((result) => result.status === 'rejected' && /no WeChat Pay public key or platform certificate/.test(String(result.reason.message)))).to.be.true();
        expect(client.certificates!.downloads).to.equal(1);
        // Later ones within the cooldown do not download again either; known serials keep working.
        await Promise.allSettled(Array.from({ length: 8 }, () => client.query(outTradeNo)));
        expect(client.certificates!.downloads).to.equal(1);
        await expect(client.query(outTradeNo)).to.not.reject();
        // After the cooldown an unknown serial may refresh again (once).
        const quick = world.client('platform', { attempts: 1, unknownSerialCooldownMs: 0 });
        await quick.query(outTradeNo);
        await fault('query', 'unknownserial');
        await expect(quick.query(outTradeNo)).to.reject();
        await expect(quick.query(outTradeNo)).to.not.reject();
        expect(quick.certificates!.downloads).to.equal(2);
    });

    it('rotation: the scheduled refresh picks up a new platform certificate and keeps the old one', async () => {
        await settings({ mode: 'platform' });
        const client = world.client('platform', { certificateRefreshMs: 30, unknownSerialCooldownMs: 3600_000 });
        await order(client);
        const old = world.sandbox.v3!.keys.newestPlatform.serial;
        const { serial } = (await sim('/__sim/v3/rotate', {})).body;
        client.certificates!.start();
        try {
            await eventually(() => client.certificates!.serials.includes(serial), 'the rotated certificate');
            expect(client.certificates!.serials).to.include([old, serial]);
            await expect(order(client)).to.not.reject();
        }
        finally {
            client.certificates!.stop();
        }
    });

    it('an expired platform certificate is dropped: after 5 years only the rotated one verifies', async () => {
        await settings({ mode: 'platform' });
        const client = world.client('platform', { unknownSerialCooldownMs: 0 });
        const outTradeNo = tradeNo();
        await order(client, outTradeNo);
        const old = world.sandbox.v3!.keys.newestPlatform;
        world.sandbox.clock.advance(old.expiresAt - world.sandbox.clock.now() + 1000);
        // The old certificate no longer verifies anything, even a correctly signed answer.
        await expectPayError(client.query(outTradeNo), { transient: true });
        expect(client.certificates!.serials).to.not.include(old.serial);
        const { serial } = (await sim('/__sim/v3/rotate', {})).body;
        expect((await client.query(outTradeNo)).state).to.equal('NOTPAY');
        expect(client.certificates!.serials).to.equal([serial]);
        const download = await world.client('switch').downloadCertificates();
        expect(download.map((certificate) => certificate.serial)).to.equal([serial]);
    });

    it('switch-over: answers follow the Wechatpay-Serial sent, callbacks come signed by either and both verify', async () => {
        await settings({ mode: 'switch', callbackPublicKeyShare: 1 });
        const both = receiving = world.client('switch');
        const first = await paidOrder(both);
        await notificationFor(first.outTradeNo, 'payment');
        // A client that sends no Wechatpay-Serial gets platform-signed answers during the switch-over.
        const platformOnly = world.client('platform');
        expect((await platformOnly.query(first.outTradeNo)).state).to.equal('SUCCESS');
        expect(both.certificates!.downloads).to.equal(0);
        await settings({ callbackPublicKeyShare: 0 });
        const second = await paidOrder(both);
        await notificationFor(second.outTradeNo, 'payment');
        expect(both.certificates!.downloads).to.equal(1);
        const serials = (await sim('/__sim/v3/notifications')).body.filter((entry: any) => [first.outTradeNo, second.outTradeNo].includes(entry.key)).map((entry: any) => entry.serial);
        expect(serials).to.equal([world.publicKeyId, world.sandbox.v3!.keys.newestPlatform.serial]);
    });

    it('faults: SYSTEM_ERROR and 5xx retried; business refusals not; mis-signed, probe, stale, unsigned and late answers are transient failures', async () => {
        const client = receiving = world.client('publicKey', { timeoutMs: 300 });
        const outTradeNo = tradeNo();
        await order(client, outTradeNo);
        await fault('query', 'errcode');
        expect((await client.query(outTradeNo)).state).to.equal('NOTPAY');
        await fault('query', 'http500');
        expect((await client.query(outTradeNo)).state).to.equal('NOTPAY');
        await fault('query', 'errcode', { times: 2 });
        await expectPayError(client.query(outTradeNo), { transient: true, errCode: 'SYSTEMERROR', status: 500 });
        await fault('jsapi', 'errcode', { status: 403, code: 'NO_AUTH' });
        await expectPayError(order(client), { transient: false, errCode: 'NOAUTH', status: 403 });
        await fault('jsapi', 'errcode', { status: 429, code: 'FREQUENCY_LIMITED' });
        await expectPayError(order(client), { transient: false, errCode: 'FREQUENCY_LIMITED' });
        for (const kind of ['badsign', 'signtest', 'stale', 'nosign']) {
            await fault('query', kind, { times: 2 });
            const err = await expectPayError(client.query(outTradeNo), { transient: true, errCode: undefined });
            expect(err.message, kind).to.contain('does not verify');
        }

        await fault('query', 'timeout', { delayMs: 1000, times: 2 });
        const late = await expectPayError(client.query(outTradeNo), { transient: true });
        expect(late.message).to.contain('ECONNABORTED');
        // An error answer without a signature could be forged: never believed as ORDERPAID/ORDER_CLOSED.
        await fault('close', 'nosign', { times: 2 });
        await expectPayError(client.close(tradeNo()), { transient: true, errCode: undefined });
    });

    it('notifications: failed replies are retried on the schedule; a probe, a stale or mis-signed one is refused with {code: FAIL}', async () => {
        const client = receiving = world.client('publicKey');
        for (const mode of ['signtest', 'stale', 'badsign', 'unknownserial']) {
            expect((await sim('/__sim/v3/notify-faults', { mode })).status).to.equal(204);
            const { outTradeNo } = await paidOrder(client);
            await notificationFor(outTradeNo, 'payment');
            const log = await eventually(async () => {
                const entries = (await sim('/__sim/v3/notifications')).body.filter((entry: any) => entry.key === outTradeNo);
                return entries.length === 2 && entries;
            }, `two attempts for ${mode}`);
            expect(log.map((entry: any) => [entry.outcome, entry.httpStatus]), mode).to.equal([['failed', 400], ['success', 204]]);
            expect(JSON.parse(log[0].reply)).to.include({ code: 'FAIL' });
        }

        expect((await sim('/__sim/v3/notify-faults', { mode: 'duplicate', count: 3 })).status).to.equal(204);
        const { outTradeNo } = await paidOrder(client);
        await eventually(() => decoded.filter((n) => n.kind === 'payment' && n.trade.outTradeNo === outTradeNo).length === 3, 'three copies');
        expect(new Set(decoded.filter((n) => n.kind === 'payment' && n.trade.outTradeNo === outTradeNo).map((n) => n.id)).size).to.equal(1);

        expect((await sim('/__sim/v3/notify-faults', { mode: 'drop' })).status).to.equal(204);
        const dropped = await paidOrder(client);
        const entries = await eventually(async () => (await sim('/__sim/v3/notifications')).body.filter((entry: any) => entry.key === dropped.outTradeNo), 'the drop');
        expect(entries.map((entry: any) => entry.outcome)).to.equal(['dropped']);
    });

    it('the simulator is strict about the request envelope (Accept, User-Agent, Authorization, serial, clock, signature, body)', async () => {
        const body = JSON.stringify({ appid: world.appId, mchid: world.mchId, description: 'x', out_trade_no: tradeNo(), notify_url: notifyUrl, amount: { total: 1 }, payer: { openid } });
        const path = '/v3/pay/transactions/jsapi';
        const expectError = async (response: Promise<{ status: number; data: string; headers: any }>, status: number, code: string) => {
            const res = await response;
            expect(res.status, res.data).to.equal(status);
            expect(JSON.parse(res.data).code).to.equal(code);
            expect(res.headers['wechatpay-signature']).to.exist();
            return JSON.parse(res.data);
        };

        await expectError(signedRequest('POST', path, body, { headers: { Accept: '' } }), 400, 'INVALID_REQUEST');
        await expectError(signedRequest('POST', path, body, { headers: { 'User-Agent': '' } }), 400, 'INVALID_REQUEST');
        await expectError(signedRequest('POST', path, body, { headers: { Authorization: 'WECHATPAY2-SHA256-RSA2048 nonsense' } }), 401, 'SIGN_ERROR');
        await expectError(signedRequest('POST', path, body, { serial: 'ABCDEF0123456789' }), 401, 'SIGN_ERROR');
        await expectError(signedRequest('POST', path, body, { timestamp: String(Math.floor(world.sandbox.clock.now() / 1000) - 301) }), 401, 'SIGN_ERROR');
        const mismatch = await expectError(signedRequest('POST', path, body, { signedBody: body.replace('"total":1', '"total":2') }), 401, 'SIGN_ERROR');
        expect(mismatch.detail.sign_information.url).to.equal(path);
        expect((await signedRequest('POST', path, body)).status).to.equal(200);

        const invalid = async (changes: object, code = 'PARAM_ERROR') => {
            const payload = JSON.stringify({ ...JSON.parse(body), out_trade_no: tradeNo(), ...changes });
            await expectError(signedRequest('POST', path, payload), 400, code);
        };

        await invalid({ amount: { total: 0.5 } });
        await invalid({ amount: { total: '100' } });
        await invalid({ amount: { total: 0 } });
        await invalid({ amount: { total: 1, currency: 'USD' } });
        await invalid({ time_expire: '20300101000000' });
        await invalid({ payer: undefined });
        await invalid({ out_trade_no: 'ab' });
        await invalid({ notify_url: 'ftp://x/y' });
        await invalid({ mchid: '1' });
        await invalid({ appid: 'wx0000000000000000' }, 'APPID_MCHID_NOT_MATCH');
        await expectError(signedRequest('POST', path, '[1]'), 400, 'PARAM_ERROR');
        await expectError(signedRequest('GET', `/v3/pay/transactions/out-trade-no/${tradeNo()}?mchid=1`, ''), 400, 'PARAM_ERROR');
        await expectError(signedRequest('GET', `/v3/pay/transactions/id/4200000000000000000000000000?mchid=${world.mchId}`, ''), 404, 'ORDER_NOT_EXIST');
    });
});
