import * as Crypto from 'crypto';
import * as Net from 'net';

import * as Code from '@hapi/code';
import * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';
import axios from 'axios';

import { Params, signV2, SignType, verifyV2 } from '../lib/wechatpay/sign';
import { formatBeijingCompact, parseBeijingCompact } from '../lib/wechatpay/time';
import { parseFlatXml, toXml } from '../lib/wechatpay/xml';
import type { Sandbox, SandboxOptions } from '../sandbox';
import { SimClock } from '../sandbox/clock';
import { legacySchedule, Notifier, officialSchedule } from '../sandbox/notifier';
import { initialSettings } from '../sandbox/options';
import { startSandboxServer } from '../sandbox/server';
import { Trades } from '../sandbox/trades';
import { Waits } from '../sandbox/waits';
import { eventually, sandboxCredentials, sleep } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const http = axios.create({ validateStatus: () => true, proxy: false, responseType: 'text', transformResponse: (data) => data });

const successReply = toXml({ return_code: 'SUCCESS', return_msg: 'OK' });
const failReply = toXml({ return_code: 'FAIL', return_msg: 'busy' });
const payerOpenid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

const credentials = (): SandboxOptions => sandboxCredentials();

let sequence = 0;
function tradeNo(): string {
    return `T${Date.now()}${++sequence}_${Crypto.randomBytes(3).toString('hex')}`;
}

interface Received {
    headers: Record<string, unknown>;
    body: string;
    fields: Record<string, string>;
}

type Behaviour = (n: number) => { status?: number; body?: string; delayMs?: number };

/** The merchant's notify_url: a tiny hapi server recording what WeChat posts, answering as each test says. */
class Receiver {
    readonly server = Hapi.server({ port: 0, host: '127.0.0.1' });
    private readonly received = new Map<string, Received[]>();
    private readonly behaviours = new Map<string, Behaviour>();

    async start(): Promise<void> {
        this.server.route({
            method: 'POST',
            path: '/notify/{name}',
            options: { payload: { parse: false, output: 'data' } },
            handler: async (request, h) => {
                const name = String(request.params.name);
                const body = (request.payload as Buffer).toString('utf8');
                const list = this.of(name);
                list.push({ headers: request.headers, body, fields: { ...await parseFlatXml(body) } });
                const behaviour: Behaviour = this.behaviours.get(name) ?? (() => ({}));
                const answer = behaviour(list.length);
                if (answer.delayMs) {
                    await sleep(answer.delayMs);
                }

                return h.response(answer.body ?? successReply).type('text/xml').code(answer.status ?? 200);
            }
        });
        await this.server.start();
    }

    url(name: string, behaviour?: Behaviour): string {
        if (behaviour) {
            this.behaviours.set(name, behaviour);
        }

        return `${this.server.info.uri}/notify/${name}`;
    }

    of(name: string): Received[] {
        const list = this.received.get(name) ?? [];
        this.received.set(name, list);
        return list;
    }
}

interface V2Answer {
    status: number;
    contentType: string;
    text: string;
    fields: Record<string, string>;
}

/** A merchant's side of the simulator, over real HTTP: signed XML requests, JSON hooks. */
class Client {
    constructor(readonly base: string, readonly options: SandboxOptions) {}

    async v2(path: string, fields: Params, { signType = 'MD5', key = this.options.apiKey }: { signType?: SignType; key?: string } = {}): Promise<V2Answer> {
        const params: Params = {
            appid: this.options.appId,
            mch_id: this.options.mchId,
            nonce_str: Crypto.randomBytes(16).toString('hex'),
            sign_type: signType === 'HMAC-SHA256' ? signType : undefined,
            ...fields
        };
        if (!('sign' in fields)) {
            params.sign = signV2(params, key, signType);
        }

        return this.raw(path, toXml(params));
    }

    async raw(path: string, body: string): Promise<V2Answer> {
        const res = await http.post(`${this.base}${path}`, body, { headers: { 'content-type': 'text/xml' } });
        let fields: Record<string, string> = {};
        try {
            fields = { ...await parseFlatXml(res.data) };
        }
        catch { }

        return { status: res.status, contentType: String(res.headers['content-type']), text: res.data, fields };
    }

    order(overrides: Params = {}, signType: SignType = 'MD5'): Promise<V2Answer> {
        return this.v2('/pay/unifiedorder', orderFields(overrides), { signType });
    }

    async hook(path: string, payload?: object): Promise<{ status: number; body: any }> {
        const res = await http.post(`${this.base}/__sim/${path}`, payload === undefined ? undefined : JSON.stringify(payload), { headers: { 'content-type': 'application/json' } });
        return { status: res.status, body: res.data ? JSON.parse(res.data) : undefined };
    }

    /** The phone pays: a prepayId goes through wx.requestPayment, so it carries paySign (signed here) unless given. */
    pay(payload: { prepayId?: string; paySign?: string; [field: string]: unknown }, signType: SignType = 'MD5') {
        const signed = payload.prepayId && payload.paySign === undefined
            ? { ...paySignFields(this.options.appId, payload.prepayId, signType, this.options.apiKey), ...payload }
            : payload;
        return this.hook('pay', signed);
    }

    async now(): Promise<number> {
        return Date.parse((await this.hook('clock', { advanceMs: 0 })).body.now);
    }

    advance(ms: number) {
        return this.hook('clock', { advanceMs: ms });
    }

    async deliveries(outTradeNo: string): Promise<any[]> {
        const res = await http.get(`${this.base}/__sim/notifications`);
        return JSON.parse(res.data).filter((entry: any) => entry.outTradeNo === outTradeNo);
    }

    /** unifiedorder that must succeed: its out_trade_no and prepay_id. */
    async placed(overrides: Params = {}, signType: SignType = 'MD5'): Promise<{ outTradeNo: string; prepayId: string; codeUrl?: string }> {
        const fields = orderFields(overrides);
        const answer = await this.v2('/pay/unifiedorder', fields, { signType });
        expect(answer.fields.result_code, answer.text).to.equal('SUCCESS');
        return { outTradeNo: String(fields.out_trade_no), prepayId: answer.fields.prepay_id, codeUrl: answer.fields.code_url };
    }
}

let receiver: Receiver;

function orderFields(overrides: Params): Params {
    return {
        body: '测试商品-T恤',
        out_trade_no: tradeNo(),
        total_fee: 1,
        spbill_create_ip: '127.0.0.1',
        notify_url: receiver.url('default'),
        trade_type: 'JSAPI',
        openid: payerOpenid,
        ...overrides
    };
}

function expectSigned(answer: V2Answer, key: string, signType: SignType = 'MD5'): void {
    expect(answer.fields.return_code, answer.text).to.equal('SUCCESS');
    expect(answer.fields.sign).to.have.length(signType === 'MD5' ? 32 : 64);
    expect(answer.fields.sign_type).to.not.exist();
    expect(answer.fields.sign).to.equal(signV2(answer.fields, key, signType));
}

function expectBusinessError(answer: V2Answer, key: string, errCode: string, des?: RegExp, signType: SignType = 'MD5'): void {
    expectSigned(answer, key, signType);
    expect(answer.fields.result_code, answer.text).to.equal('FAIL');
    expect(answer.fields.err_code, answer.text).to.equal(errCode);
    if (des) {
        expect(answer.fields.err_code_des).to.match(des);
    }
}

function expectCommunicationFailure(answer: V2Answer, message: string): void {
    expect(answer.status).to.equal(200);
    expect(answer.fields).to.equal({ return_code: 'FAIL', return_msg: message });
}

function paySignFields(appId: string, prepayId: string, signType: SignType, key: string) {
    const fields = { appId, timeStamp: String(Math.floor(Date.now() / 1000)), nonceStr: Crypto.randomBytes(16).toString('hex'), package: `prepay_id=${prepayId}`, signType };
    return { ...fields, paySign: signV2(fields, key, signType) };
}

describe('WeChat Pay v2 protocol primitives (reference §7 golden vectors)', () => {

    const params = { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' };
    const key = '192006250b4c09247ec02edce69f6a2d';

    it('signs the official example with MD5 and HMAC-SHA256', () => {
        expect(signV2(params, key)).to.equal('9A0A8659F005D6984697E2CA0A9CF3B7');
        expect(signV2(params, key, 'MD5')).to.equal('9A0A8659F005D6984697E2CA0A9CF3B7');
        expect(signV2(params, key, 'HMAC-SHA256')).to.equal('6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6');
    });

    it('verifies both, picking the algorithm from sign_type or the length', () => {
        expect(verifyV2({ ...params, sign: '9A0A8659F005D6984697E2CA0A9CF3B7' }, key)).to.be.true();
        expect(verifyV2({ ...params, sign: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6' }, key)).to.be.true();
        expect(verifyV2({ ...params, sign: '9A0A8659F005D6984697E2CA0A9CF3B8' }, key)).to.be.false();
        expect(verifyV2({ ...params, sign_type: 'HMAC-SHA256', sign: '9A0A8659F005D6984697E2CA0A9CF3B7' }, key)).to.be.false();
    });

    it('computes the official wx.requestPayment paySign', () => {
        const pay = { appId: 'wxd678efh567hg6787', nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', package: 'prepay_id=wx2017033010242291fcfe0db70013231072', signType: 'MD5', timeStamp: '1490840662' };
        expect(signV2(pay, 'qazwsxedcrfvtgbyhnujmikolp111111', 'MD5')).to.equal('22D9B4E54AB1950F51E0649E8810ACD6');
    });
});

describe('the notifier', () => {

    it('keeps the last 1000 deliveries', async () => {
        const clock = new SimClock();
        const trades = new Trades(clock);
        const notifier = new Notifier({ options: credentials(), settings: { ...initialSettings(credentials()), msPerScheduleSecond: 1 }, clock, waits: new Waits() });
        const trade = trades.create({
            outTradeNo: 'T000001', appid: 'wx0000000000000000', mchId: '1900000109', signType: 'MD5', signTypeGiven: false, fingerprint: '[]',
            tradeType: 'JSAPI', totalFee: 1, feeType: 'CNY', notifyUrl: 'http://127.0.0.1:9/notify', openid: payerOpenid
        });
        trades.pay(trade, payerOpenid);
        notifier.armFault({ mode: 'drop' }, 1001);
        for (let i = 0; i < 1001; ++i) {
            await notifier.notify(trade);
        }

        expect(notifier.log).to.have.length(1000);
        expect(notifier.log.every((entry) => entry.outcome === 'dropped' && entry.transactionId === trade.transactionId)).to.be.true();
    });
});

describe('the trade state machine', () => {

    it('refuses moves reference §4 does not allow', () => {
        const trades = new Trades(new SimClock());
        const trade = trades.create({
            outTradeNo: 'T123456', appid: 'wx0000000000000000', mchId: '1900000109', signType: 'MD5', signTypeGiven: false, fingerprint: '[]',
            tradeType: 'JSAPI', totalFee: 1, feeType: 'CNY', notifyUrl: 'http://127.0.0.1/notify', openid: payerOpenid
        });
        trades.pay(trade, payerOpenid);
        expect(trade.state).to.equal('SUCCESS');
        expect(() => trades.close(trade)).to.throw('trade T123456 cannot go from SUCCESS to CLOSED');
        expect(() => trades.pay(trade, payerOpenid)).to.throw(/cannot go from SUCCESS to SUCCESS/);
    });
});

describe('the standalone simulator: WeChat Pay API v2', () => {

    let server: Hapi.Server;
    let sandbox: Sandbox;
    let options: SandboxOptions;
    let client: Client;
    let key: string;

    before(async () => {
        receiver = new Receiver();
        await receiver.start();
        options = { ...credentials(), msPerScheduleSecond: 1, notifyTimeoutMs: 300 };
        key = options.apiKey;
        ({ server, sandbox } = await startSandboxServer(options));
        client = new Client(server.info.uri, options);
    });

    after(async () => {
        await server.stop();
        await receiver.server.stop();
    });

    describe('POST /pay/unifiedorder', () => {

        it('answers a JSAPI prepay_id, signed with MD5 and without sign_type', async () => {
            const answer = await client.order();
            expect(answer.status).to.equal(200);
            expect(answer.contentType).to.startWith('text/xml');
            expectSigned(answer, key);
            expect(answer.fields).to.include({ return_msg: 'OK', result_code: 'SUCCESS', appid: options.appId, mch_id: options.mchId, trade_type: 'JSAPI' });
            expect(answer.fields.prepay_id).to.match(/^wx\d{14}[0-9a-f]{20}$/);
            expect(answer.fields.code_url).to.not.exist();
            expect(answer.fields.nonce_str).to.match(/^[0-9a-f]{32}$/);
        });

        it('signs the answer with HMAC-SHA256 when the request did', async () => {
            const answer = await client.order({}, 'HMAC-SHA256');
            expectSigned(answer, key, 'HMAC-SHA256');
            expect(verifyV2(answer.fields, key)).to.be.true();
            expect(answer.fields.result_code).to.equal('SUCCESS');
        });

        it('answers a NATIVE code_url', async () => {
            const answer = await client.order({ trade_type: 'NATIVE', product_id: 'P1001', openid: undefined, device_info: 'WEB' });
            expectSigned(answer, key);
            expect(answer.fields.trade_type).to.equal('NATIVE');
            expect(answer.fields.device_info).to.equal('WEB');
            expect(answer.fields.code_url).to.match(/^weixin:\/\/wxpay\/bizpayurl\?pr=[\w-]+$/);
            expect(answer.fields.prepay_id).to.match(/^wx\d{14}/);
        });

        describe('refuses a request it cannot trust', () => {

            it('with a wrong key', async () => {
                expectCommunicationFailure(await client.v2('/pay/unifiedorder', orderFields({}), { key: Crypto.randomBytes(16).toString('hex') }), '签名错误');
            });

            it('signed with MD5 while saying HMAC-SHA256', async () => {
                const fields = { sign_type: 'HMAC-SHA256', ...orderFields({}) };
                const params = { appid: options.appId, mch_id: options.mchId, nonce_str: 'n1', ...fields };
                expectCommunicationFailure(await client.v2('/pay/unifiedorder', { ...fields, nonce_str: 'n1', sign: signV2(params, key, 'MD5') }), '签名错误');
            });

            it('signed with HMAC-SHA256 without saying so (MD5 is the default)', async () => {
                const fields = { appid: options.appId, mch_id: options.mchId, nonce_str: 'n2', ...orderFields({}) };
                expectCommunicationFailure(await client.v2('/pay/unifiedorder', { ...fields, sign: signV2(fields, key, 'HMAC-SHA256') }), '签名错误');
            });

            it('with a lower-case or missing sign', async () => {
                const fields = { appid: options.appId, mch_id: options.mchId, nonce_str: 'n3', ...orderFields({}) };
                expectCommunicationFailure(await client.v2('/pay/unifiedorder', { ...fields, sign: signV2(fields, key).toLowerCase() }), '签名错误');
                expectCommunicationFailure(await client.v2('/pay/unifiedorder', { ...fields, sign: undefined }), '签名错误');
            });

            it('with a changed field', async () => {
                const fields = { appid: options.appId, mch_id: options.mchId, nonce_str: 'n4', ...orderFields({}) };
                expectCommunicationFailure(await client.v2('/pay/unifiedorder', { ...fields, sign: signV2(fields, key), total_fee: 2 }), '签名错误');
            });

            it('with an unknown sign_type', async () => {
                expectCommunicationFailure(await client.v2('/pay/unifiedorder', orderFields({ sign_type: 'SHA1' })), 'sign_type参数错误');
            });

            it('with an empty body or XML that is not WeChat\'s', async () => {
                expectCommunicationFailure(await client.raw('/pay/unifiedorder', ''), 'post数据为空');
                expectCommunicationFailure(await client.raw('/pay/unifiedorder', '{"appid":"wx"}'), 'XML格式错误');
                expectCommunicationFailure(await client.raw('/pay/unifiedorder', '<!DOCTYPE xml [<!ENTITY x "y">]><xml><a>&x;</a></xml>'), 'XML格式错误');
            });

            it('for another merchant or app', async () => {
                expectBusinessError(await client.order({ mch_id: undefined }), key, 'LACK_PARAMS', /mch_id/);
                expectBusinessError(await client.order({ mch_id: '1900000001' }), key, 'MCHID_NOT_EXIST');
                expectBusinessError(await client.order({ appid: undefined }), key, 'LACK_PARAMS', /appid/);
                expectBusinessError(await client.order({ appid: 'wx0123456789abcdef' }), key, 'APPID_MCHID_NOT_MATCH');
                const unknown = await client.order({ appid: 'not-an-appid' });
                expectBusinessError(unknown, key, 'APPID_NOT_EXIST');
                expect(unknown.fields.appid).to.equal('not-an-appid');
            });
        });

        describe('checks its fields', () => {

            const cases: Array<[string, Params, string, RegExp]> = [
                ['no nonce_str', { nonce_str: undefined }, 'LACK_PARAMS', /nonce_str/],
                ['no body', { body: undefined }, 'LACK_PARAMS', /body/],
                ['an empty body', { body: '' }, 'LACK_PARAMS', /body/],
                ['no out_trade_no', { out_trade_no: undefined }, 'LACK_PARAMS', /out_trade_no/],
                ['no total_fee', { total_fee: undefined }, 'LACK_PARAMS', /total_fee/],
                ['no spbill_create_ip', { spbill_create_ip: undefined }, 'LACK_PARAMS', /spbill_create_ip/],
                ['no notify_url', { notify_url: undefined }, 'LACK_PARAMS', /notify_url/],
                ['no trade_type', { trade_type: undefined }, 'LACK_PARAMS', /trade_type/],
                ['JSAPI without openid', { openid: undefined }, 'LACK_PARAMS', /openid/],
                ['NATIVE without product_id', { trade_type: 'NATIVE', openid: undefined }, 'LACK_PARAMS', /product_id/],
                ['a body over 127 bytes', { body: '商'.repeat(43) }, 'PARAM_ERROR', /body/],
                ['a nonce_str over 32 characters', { nonce_str: 'n'.repeat(33) }, 'PARAM_ERROR', /nonce_str/],
                ['an out_trade_no of 5 characters', { out_trade_no: 'T1234' }, 'PARAM_ERROR', /out_trade_no/],
                ['an out_trade_no of 33 characters', { out_trade_no: 'T'.repeat(33) }, 'PARAM_ERROR', /out_trade_no/],
                ['an out_trade_no with a dot', { out_trade_no: 'T2024.0001' }, 'PARAM_ERROR', /out_trade_no/],
                ['total_fee in yuan', { total_fee: '0.01' }, 'PARAM_ERROR', /total_fee/],
                ['total_fee 1.00', { total_fee: '1.00' }, 'PARAM_ERROR', /total_fee/],
                ['total_fee 0', { total_fee: 0 }, 'PARAM_ERROR', /total_fee/],
                ['a negative total_fee', { total_fee: -1 }, 'PARAM_ERROR', /total_fee/],
                ['fee_type USD', { fee_type: 'USD' }, 'PARAM_ERROR', /fee_type/],
                ['a client IP that is not one', { spbill_create_ip: 'localhost' }, 'PARAM_ERROR', /spbill_create_ip/],
                ['time_expire in RFC 3339', { time_expire: '2030-01-01T00:00:00+08:00' }, 'PARAM_ERROR', /time_expire/],
                ['time_expire on 31 February', { time_expire: '20300231120000' }, 'PARAM_ERROR', /time_expire/],
                ['a malformed time_start', { time_start: '2030010112' }, 'PARAM_ERROR', /time_start/],
                ['a notify_url with a query string', { notify_url: 'https://shop.example.com/notify?id=1' }, 'PARAM_ERROR', /notify_url/],
                ['a notify_url that is not http(s)', { notify_url: 'ftp://shop.example.com/notify' }, 'PARAM_ERROR', /notify_url/],
                ['an unknown trade_type', { trade_type: 'CARD' }, 'PARAM_ERROR', /trade_type/],
                ['APP, not open to a mini-program merchant', { trade_type: 'APP' }, 'NOAUTH', /权限/],
                ['MWEB, not open to a mini-program merchant', { trade_type: 'MWEB' }, 'NOAUTH', /权限/],
                ['a time_expire already past', { time_expire: '20200101120000' }, 'INVALID_REQUEST', /time_expire/]
            ];

            for (const [what, overrides, errCode, des] of cases) {
                it(`refuses ${what} with ${errCode}`, async () => {
                    const answer = await client.order(overrides);
                    expectBusinessError(answer, key, errCode, des);
                    expect(answer.fields.prepay_id).to.not.exist();
                });
            }

            it('accepts every allowed out_trade_no character, an IPv6 client and Beijing-time bounds', async () => {
                const now = await client.now();
                const answer = await client.order({
                    out_trade_no: `Ab9_-|*${Crypto.randomBytes(4).toString('hex')}`,
                    spbill_create_ip: '::1',
                    time_start: formatBeijingCompact(new Date(now)),
                    time_expire: formatBeijingCompact(new Date(now + 15 * 60_000)),
                    fee_type: 'CNY',
                    body: '商'.repeat(42)
                });
                expect(answer.fields.result_code, answer.text).to.equal('SUCCESS');
            });

            it('refuses a UTC time_expire sent as if it were Beijing time once it is past', async () => {
                const now = await client.now();
                const utc = new Date(now + 15 * 60_000).toISOString().replace(/\D/g, '').slice(0, 14);
                expectBusinessError(await client.order({ time_expire: utc }), key, 'INVALID_REQUEST', /time_expire/);
            });
        });

        describe('re-entry', () => {

            it('answers the same prepay_id for identical parameters (a new nonce and client IP are fine)', async () => {
                const fields = orderFields({ attach: 'cart=7' });
                const first = await client.v2('/pay/unifiedorder', fields);
                const again = await client.v2('/pay/unifiedorder', { ...fields, spbill_create_ip: '10.1.2.3' });
                expect(first.fields.result_code).to.equal('SUCCESS');
                expect(again.fields.result_code, again.text).to.equal('SUCCESS');
                expect(again.fields.prepay_id).to.equal(first.fields.prepay_id);
            });

            it('answers INVALID_REQUEST 201 when any other parameter changes, appears or goes', async () => {
                const fields = orderFields({ attach: 'cart=7' });
                expect((await client.v2('/pay/unifiedorder', fields)).fields.result_code).to.equal('SUCCESS');
                for (const changed of [{ total_fee: 2 }, { body: 'other' }, { attach: undefined }, { time_expire: '20991231235959' }]) {
                    const answer = await client.v2('/pay/unifiedorder', { ...fields, ...changed });
                    expectBusinessError(answer, key, 'INVALID_REQUEST', /^201 商户订单号重复$/);
                }

                const hmac = await client.v2('/pay/unifiedorder', fields, { signType: 'HMAC-SHA256' });
                expectBusinessError(hmac, key, 'INVALID_REQUEST', /^201/, 'HMAC-SHA256');
            });

            it('gives a fresh, usable prepay_id once the old one is 2 hours old', async () => {
                const now = await client.now();
                const fields = orderFields({ time_expire: formatBeijingCompact(new Date(now + 3 * 3600_000)) });
                const first = await client.v2('/pay/unifiedorder', fields);
                await client.advance(2 * 3600_000 - 1000);
                expect((await client.v2('/pay/unifiedorder', fields)).fields.prepay_id).to.equal(first.fields.prepay_id);
                await client.advance(1000);
                const renewed = await client.v2('/pay/unifiedorder', fields);
                expect(renewed.fields.result_code).to.equal('SUCCESS');
                expect(renewed.fields.prepay_id).to.not.equal(first.fields.prepay_id);

                const stale = await client.pay({ prepayId: first.fields.prepay_id });
                expect(stale.status).to.equal(410);
                expect(stale.body).to.include({ statusCode: 410, error: 'Gone' });
                expect(stale.body.message).to.contain('prepay_id已过期');
                const paid = await client.pay({ prepayId: renewed.fields.prepay_id });
                expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
            });

            it('gives a NATIVE re-entry a fresh code_url with the fresh prepay_id, and refuses the stale code', async () => {
                const fields = orderFields({ trade_type: 'NATIVE', product_id: 'P7', openid: undefined });
                const first = await client.v2('/pay/unifiedorder', fields);
                await client.advance(2 * 3600_000);
                const renewed = await client.v2('/pay/unifiedorder', fields);
                expect(renewed.fields.code_url).to.not.equal(first.fields.code_url);
                expect((await client.pay({ codeUrl: first.fields.code_url })).status).to.equal(410);
                expect((await client.pay({ codeUrl: renewed.fields.code_url })).status).to.equal(200);
            });

            it('answers ORDERPAID once paid and ORDERCLOSED once closed, whatever the parameters', async () => {
                const fields = orderFields({});
                const placed = await client.v2('/pay/unifiedorder', fields);
                expect((await client.pay({ prepayId: placed.fields.prepay_id })).status).to.equal(200);
                expectBusinessError(await client.v2('/pay/unifiedorder', fields), key, 'ORDERPAID');
                expectBusinessError(await client.v2('/pay/unifiedorder', { ...fields, total_fee: 5 }), key, 'ORDERPAID');

                const other = orderFields({});
                await client.v2('/pay/unifiedorder', other);
                await client.advance(5 * 60_000);        // WeChat's close window
                expect((await client.v2('/pay/closeorder', { out_trade_no: other.out_trade_no })).fields.result_code).to.equal('SUCCESS');
                expectBusinessError(await client.v2('/pay/unifiedorder', other), key, 'ORDERCLOSED');
            });
        });
    });

    describe('POST /pay/orderquery', () => {

        it('answers NOTPAY with a minimal body', async () => {
            const { outTradeNo } = await client.placed({ attach: 'a=1' });
            const answer = await client.v2('/pay/orderquery', { out_trade_no: outTradeNo });
            expectSigned(answer, key);
            const { sign, nonce_str: nonce, ...rest } = answer.fields;
            expect(sign).to.exist();
            expect(nonce).to.exist();
            expect(rest).to.equal({
                return_code: 'SUCCESS', return_msg: 'OK', appid: options.appId, mch_id: options.mchId, result_code: 'SUCCESS',
                out_trade_no: outTradeNo, total_fee: '1', trade_state: 'NOTPAY', trade_state_desc: '订单未支付'
            });
        });

        it('answers SUCCESS with the payment, by out_trade_no or transaction_id, signed as asked', async () => {
            const { outTradeNo, prepayId } = await client.placed({ total_fee: 2599, attach: '{"cart":7}', device_info: 'MINI' }, 'HMAC-SHA256');
            const before = await client.now();
            const paid = await client.pay({ prepayId }, 'HMAC-SHA256');
            expect(paid.body.outTradeNo).to.equal(outTradeNo);
            expect(paid.body.transactionId).to.match(/^\d{28}$/);
            const now = await client.now();

            const answer = await client.v2('/pay/orderquery', { out_trade_no: outTradeNo }, { signType: 'HMAC-SHA256' });
            expectSigned(answer, key, 'HMAC-SHA256');
            expect(answer.fields).to.include({
                result_code: 'SUCCESS', trade_state: 'SUCCESS', trade_state_desc: '支付成功', out_trade_no: outTradeNo, transaction_id: paid.body.transactionId,
                openid: payerOpenid, is_subscribe: 'N', trade_type: 'JSAPI', bank_type: 'OTHERS', total_fee: '2599', cash_fee: '2599', fee_type: 'CNY',
                cash_fee_type: 'CNY', attach: '{"cart":7}', device_info: 'MINI'
            });
            expect(answer.fields.time_end).to.match(/^\d{14}$/);
            // time_end, to the second, is when the phone paid on the simulator's clock.
            expect(parseBeijingCompact(answer.fields.time_end)!.getTime()).to.be.within(Math.floor(before / 1000) * 1000, now);

            const byTransaction = await client.v2('/pay/orderquery', { transaction_id: paid.body.transactionId, out_trade_no: 'ignored-when-transaction-id' });
            expect(byTransaction.fields.out_trade_no).to.equal(outTradeNo);
            expectSigned(byTransaction, key);
        });

        it('answers CLOSED for a closed order', async () => {
            const { outTradeNo } = await client.placed();
            await client.advance(5 * 60_000);
            await client.v2('/pay/closeorder', { out_trade_no: outTradeNo });
            const answer = await client.v2('/pay/orderquery', { out_trade_no: outTradeNo });
            expect(answer.fields).to.include({ result_code: 'SUCCESS', trade_state: 'CLOSED', out_trade_no: outTradeNo });
            expect(answer.fields.transaction_id).to.not.exist();
        });

        it('answers ORDERNOTEXIST for an unknown order, LACK_PARAMS for no order at all', async () => {
            expectBusinessError(await client.v2('/pay/orderquery', { out_trade_no: tradeNo() }), key, 'ORDERNOTEXIST', /不存在/);
            expectBusinessError(await client.v2('/pay/orderquery', { transaction_id: '4200000215201811190261405420' }), key, 'ORDERNOTEXIST');
            expectBusinessError(await client.v2('/pay/orderquery', {}), key, 'LACK_PARAMS');
            expectCommunicationFailure(await client.v2('/pay/orderquery', { out_trade_no: tradeNo() }, { key: 'x'.repeat(32) }), '签名错误');
        });
    });

    describe('POST /pay/closeorder', () => {

        it('closes an unpaid order; the phone can no longer pay it', async () => {
            const { outTradeNo, prepayId } = await client.placed();
            await client.advance(5 * 60_000);
            const answer = await client.v2('/pay/closeorder', { out_trade_no: outTradeNo });
            expectSigned(answer, key);
            expect(answer.fields).to.include({ result_code: 'SUCCESS', result_msg: 'OK' });
            const paid = await client.pay({ prepayId });
            expect(paid.status).to.equal(409);
            expect(paid.body.message).to.contain('ORDERCLOSED');
            expectBusinessError(await client.v2('/pay/closeorder', { out_trade_no: outTradeNo }), key, 'ORDERCLOSED');
        });

        it('answers ORDERPAID for a paid order, ORDERNOTEXIST for an unknown one, LACK_PARAMS without out_trade_no', async () => {
            const { outTradeNo, prepayId } = await client.placed();
            await client.pay({ prepayId });
            expectBusinessError(await client.v2('/pay/closeorder', { out_trade_no: outTradeNo }), key, 'ORDERPAID', /已支付/);
            expectBusinessError(await client.v2('/pay/closeorder', { out_trade_no: tradeNo() }), key, 'ORDERNOTEXIST');
            expectBusinessError(await client.v2('/pay/closeorder', {}), key, 'LACK_PARAMS', /out_trade_no/);
        });

        it('refuses to close within closeGuardMinutes (5 by default, as WeChat), and closes at once with the knob at 0', async () => {
            const settings = await client.hook('settings', {});
            expect(settings.body.closeGuardMinutes).to.equal(5);
            const { outTradeNo } = await client.placed();
            expectBusinessError(await client.v2('/pay/closeorder', { out_trade_no: outTradeNo }), key, 'INVALID_REQUEST', /5分钟/);
            await client.advance(5 * 60_000);
            expect((await client.v2('/pay/closeorder', { out_trade_no: outTradeNo })).fields.result_code).to.equal('SUCCESS');
            await client.hook('settings', { closeGuardMinutes: 0 });
            try {
                const fresh = await client.placed();
                expect((await client.v2('/pay/closeorder', { out_trade_no: fresh.outTradeNo })).fields.result_code).to.equal('SUCCESS');
            }
            finally {
                await client.hook('settings', { closeGuardMinutes: 5 });
            }
        });
    });

    describe('POST /__sim/pay (the phone)', () => {

        it('pays a JSAPI order whose paySign the phone accepts, MD5 and HMAC-SHA256', async () => {
            for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
                const { outTradeNo, prepayId } = await client.placed({}, signType);
                const res = await client.pay({ prepayId, ...paySignFields(options.appId, prepayId, signType, key) });
                expect(res.status, JSON.stringify(res.body)).to.equal(200);
                expect(res.body).to.equal({ transactionId: res.body.transactionId, outTradeNo });
                expect(res.body.transactionId).to.match(/^4200\d{24}$/);
            }
        });

        it('refuses a paySign the phone would refuse', async () => {
            const { prepayId } = await client.placed();
            const good = paySignFields(options.appId, prepayId, 'MD5', key);
            const refusals: Array<[object, RegExp]> = [
                [{ ...good, paySign: good.paySign.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }, /paySign does not match/],
                [paySignFields(options.appId, prepayId, 'MD5', 'k'.repeat(32)), /paySign does not match/],
                [paySignFields(options.appId, prepayId, 'HMAC-SHA256', key), /signType HMAC-SHA256 is not the sign_type of unifiedorder \(MD5\)/],
                [paySignFields('wx0123456789abcdef', prepayId, 'MD5', key), /appId/],
                [{ ...paySignFields(options.appId, prepayId, 'MD5', key), package: prepayId }, /package/],
                [paySignFields(options.appId, 'wx20240101000000aaaaaaaaaaaaaaaaaaaa', 'MD5', key), /package/]
            ];
            for (const [fields, message] of refusals) {
                const res = await client.pay({ prepayId, ...fields });
                expect(res.status).to.equal(400);
                expect(res.body).to.include({ statusCode: 400, error: 'Bad Request' });
                expect(String(res.body.message)).to.startWith('requestPayment:fail 支付验证签名失败');
                expect(res.body.message).to.match(message);
            }

            const { paySign } = good;
            expect((await client.pay({ prepayId, paySign })).status).to.equal(400);
            expect((await client.pay({ prepayId, ...good })).status).to.equal(200);
        });

        it('refuses an order past its time_expire, which orderquery still calls NOTPAY', async () => {
            const now = await client.now();
            const { outTradeNo, prepayId } = await client.placed({ time_expire: formatBeijingCompact(new Date(now + 6 * 60_000)) });
            await client.advance(7 * 60_000);
            const res = await client.pay({ prepayId });
            expect(res.status).to.equal(410);
            expect(res.body.message).to.contain('订单已过期');
            expect((await client.v2('/pay/orderquery', { out_trade_no: outTradeNo })).fields.trade_state).to.equal('NOTPAY');
        });

        it('refuses a paid order, and never pays twice', async () => {
            const { prepayId } = await client.placed();
            const first = await client.pay({ prepayId });
            const again = await client.pay({ prepayId });
            expect(again.status).to.equal(409);
            expect(again.body).to.include({ statusCode: 409, error: 'Conflict' });
            expect(again.body.message).to.contain('ORDERPAID');
            expect(first.body.transactionId).to.exist();
        });

        it('pays a NATIVE code_url as the scanning user', async () => {
            const { outTradeNo, codeUrl } = await client.placed({ trade_type: 'NATIVE', product_id: 'P1', openid: undefined });
            const scanner = 'oScanner0000000000000000000A';
            const res = await client.pay({ codeUrl, openid: scanner });
            expect(res.status).to.equal(200);
            expect((await client.v2('/pay/orderquery', { out_trade_no: outTradeNo })).fields).to.include({ openid: scanner, trade_type: 'NATIVE' });

            const other = await client.placed({ trade_type: 'NATIVE', product_id: 'P2', openid: undefined });
            expect((await client.pay({ codeUrl: other.codeUrl })).status).to.equal(200);
            expect((await client.v2('/pay/orderquery', { out_trade_no: other.outTradeNo })).fields.openid).to.match(/^o[\w-]{27}$/);
        });

        it('pays a JSAPI order only as its own openid', async () => {
            const { prepayId } = await client.placed();
            const res = await client.pay({ prepayId, openid: 'oSomeoneElse000000000000000A' });
            expect(res.status).to.equal(400);
            expect(res.body.message).to.contain('openid');
            expect((await client.pay({ prepayId, openid: payerOpenid })).status).to.equal(200);
        });

        it('answers 404 for an unknown prepay_id or code_url, 400 for a bad body', async () => {
            const unknown = await client.pay({ prepayId: 'wx20240101000000aaaaaaaaaaaaaaaaaaaa' });
            expect(unknown.status).to.equal(404);
            expect(unknown.body.message).to.contain('prepay_id');
            expect((await client.pay({ codeUrl: 'weixin://wxpay/bizpayurl?pr=nope' })).status).to.equal(404);
            const both = await client.pay({ prepayId: 'a', codeUrl: 'b' });
            expect(both.status).to.equal(400);
            expect(both.body.message).to.contain('prepayId');
            expect((await client.pay({})).status).to.equal(400);
        });
    });

    describe('payment notifications', () => {

        it('posts the §2.7 XML to notify_url with WeChat\'s headers, signed with MD5 and without sign_type', async () => {
            const name = 'md5-order';
            const { outTradeNo, prepayId } = await client.placed({ notify_url: receiver.url(name), total_fee: 880, attach: 'x=1' });
            const paid = await client.pay({ prepayId });
            const [delivery] = await eventually(() => receiver.of(name).length > 0 && receiver.of(name), 'the notification');
            expect(String(delivery.headers['content-type'])).to.startWith('text/xml');
            expect(delivery.headers['user-agent']).to.equal('Mozilla/4.0');
            expect(verifyV2(delivery.fields, key)).to.be.true();
            expect(delivery.fields.sign).to.equal(signV2(delivery.fields, key, 'MD5'));
            expect(Object.keys(delivery.fields).sort()).to.equal([
                'appid', 'attach', 'bank_type', 'cash_fee', 'fee_type', 'is_subscribe', 'mch_id', 'nonce_str', 'openid', 'out_trade_no',
                'result_code', 'return_code', 'sign', 'time_end', 'total_fee', 'trade_type', 'transaction_id'
            ]);
            expect(delivery.fields).to.include({
                appid: options.appId, mch_id: options.mchId, out_trade_no: outTradeNo, transaction_id: paid.body.transactionId, total_fee: '880', cash_fee: '880',
                fee_type: 'CNY', openid: payerOpenid, trade_type: 'JSAPI', result_code: 'SUCCESS', return_code: 'SUCCESS', attach: 'x=1', is_subscribe: 'N'
            });
            expect(delivery.fields.time_end).to.match(/^\d{14}$/);

            const log = await eventually(async () => (await client.deliveries(outTradeNo)).length > 0 && client.deliveries(outTradeNo), 'the log');
            expect(log).to.have.length(1);
            expect(log[0]).to.include({ outTradeNo, transactionId: paid.body.transactionId, attempt: 1, outcome: 'success', httpStatus: 200, reply: successReply });
            expect(Date.parse(log[0].at)).to.be.a.number();
        });

        it('signs an HMAC-SHA256 order\'s notification with HMAC-SHA256 and says so', async () => {
            const name = 'hmac-order';
            const { prepayId } = await client.placed({ notify_url: receiver.url(name) }, 'HMAC-SHA256');
            await client.pay({ prepayId }, 'HMAC-SHA256');
            const [delivery] = await eventually(() => receiver.of(name).length > 0 && receiver.of(name), 'the notification');
            expect(delivery.fields.sign_type).to.equal('HMAC-SHA256');
            expect(delivery.fields.sign).to.have.length(64);
            expect(delivery.fields.sign).to.equal(signV2(delivery.fields, key, 'HMAC-SHA256'));
            expect(verifyV2(delivery.fields, key)).to.be.true();
            expect(delivery.fields.attach).to.not.exist();
        });

        it('retries on the official schedule until the merchant answers SUCCESS XML with HTTP 200, then stops', async () => {
            const name = 'retries';
            const replies: Array<{ status?: number; body?: string }> = [
                { body: failReply },
                { status: 500, body: successReply },
                { body: 'SUCCESS' },
                { body: '<xml><return_code>SUCCESS</return_code>' },
                { body: toXml({ return_msg: 'OK' }) },
                {}
            ];
            const { outTradeNo, prepayId } = await client.placed({ notify_url: receiver.url(name, (n) => replies[n - 1]) });
            const started = Date.now();
            await client.pay({ prepayId });
            const log = await eventually(async () => {
                const entries = await client.deliveries(outTradeNo);
                return entries.length === 6 && entries;
            }, 'six attempts');
            // msPerScheduleSecond is 1: 15 + 15 + 30 + 180 + 600 schedule seconds between the six attempts.
            expect(Date.now() - started).to.be.at.least(840);
            expect(log.map((entry) => entry.attempt)).to.equal([1, 2, 3, 4, 5, 6]);
            expect(log.map((entry) => entry.outcome)).to.equal(['failed', 'failed', 'failed', 'failed', 'failed', 'success']);
            expect(log.map((entry) => entry.httpStatus)).to.equal([200, 500, 200, 200, 200, 200]);
            expect(log[0].reply).to.equal(failReply);
            expect(log[2].reply).to.equal('SUCCESS');
            await sleep(1300);
            expect(receiver.of(name)).to.have.length(6);
        });

        it('counts no reply within notifyTimeoutMs as a failure', async () => {
            const name = 'slow';
            const { outTradeNo, prepayId } = await client.placed({ notify_url: receiver.url(name, (n) => (n === 1 ? { delayMs: 500 } : {})) });
            await client.pay({ prepayId });
            const log = await eventually(async () => {
                const entries = await client.deliveries(outTradeNo);
                return entries.some((entry) => entry.outcome === 'success') && entries;
            }, 'the retry');
            expect(log[0]).to.include({ attempt: 1, outcome: 'failed', error: 'no reply within 300 ms' });
            expect(log[0].httpStatus).to.not.exist();
            expect(log[log.length - 1]).to.include({ outcome: 'success' });
            expect(log[log.length - 1].attempt as number).to.be.at.least(2);
        });

        it('gives up after the last retry (16 attempts in all)', async () => {
            const closed = Net.createServer();
            await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
            const port = (closed.address() as Net.AddressInfo).port;
            await new Promise((resolve) => closed.close(resolve));

            await client.hook('settings', { msPerScheduleSecond: 0.002 });
            try {
                const { outTradeNo, prepayId } = await client.placed({ notify_url: `http://127.0.0.1:${port}/notify` });
                await client.pay({ prepayId });
                const log = await eventually(async () => {
                    const entries = await client.deliveries(outTradeNo);
                    return entries.length === officialSchedule.length + 1 && entries;
                }, 'every attempt');
                expect(log.every((entry) => entry.outcome === 'failed')).to.be.true();
                expect(log[15].attempt).to.equal(16);
                expect(log[0].error).to.contain('ECONNREFUSED');
                await sleep(300);
                expect(await client.deliveries(outTradeNo)).to.have.length(16);
            }
            finally {
                await client.hook('settings', { msPerScheduleSecond: 1 });
            }
        });

        describe('faults', () => {

            it('drop: never delivers, so the merchant must query', async () => {
                expect((await client.hook('notify-faults', { mode: 'drop' })).status).to.equal(204);
                const name = 'dropped';
                const { outTradeNo, prepayId } = await client.placed({ notify_url: receiver.url(name) });
                await client.pay({ prepayId });
                const log = await eventually(async () => (await client.deliveries(outTradeNo)).length > 0 && client.deliveries(outTradeNo), 'the log');
                expect(log).to.have.length(1);
                expect(log[0]).to.include({ attempt: 1, outcome: 'dropped' });
                await sleep(100);
                expect(receiver.of(name)).to.have.length(0);
                expect((await client.v2('/pay/orderquery', { out_trade_no: outTradeNo })).fields.trade_state).to.equal('SUCCESS');
            });

            it('drop for the next `times` notifications only', async () => {
                await client.hook('notify-faults', { mode: 'drop', times: 2 });
                const names = ['drop-1', 'drop-2', 'drop-3'];
                for (const name of names) {
                    const { prepayId } = await client.placed({ notify_url: receiver.url(name) });
                    await client.pay({ prepayId });
                }

                await eventually(() => receiver.of('drop-3').length === 1, 'the third notification');
                expect(receiver.of('drop-1')).to.have.length(0);
                expect(receiver.of('drop-2')).to.have.length(0);
            });

            it('duplicate: three identical copies at once by default', async () => {
                await client.hook('notify-faults', { mode: 'duplicate' });
                const name = 'duplicates';
                const { outTradeNo, prepayId } = await client.placed({ notify_url: receiver.url(name) });
                await client.pay({ prepayId });
                await eventually(() => receiver.of(name).length === 3, 'three copies');
                const bodies = new Set(receiver.of(name).map((delivery) => delivery.body));
                expect(bodies.size).to.equal(1);
                expect(verifyV2(receiver.of(name)[0].fields, key)).to.be.true();
                const log = await eventually(async () => (await client.deliveries(outTradeNo)).length === 3 && client.deliveries(outTradeNo), 'three log entries');
                expect(log.every((entry) => entry.attempt === 1 && entry.outcome === 'success')).to.be.true();
                await sleep(100);
                expect(receiver.of(name)).to.have.length(3);
            });

            it('duplicate: `count` copies', async () => {
                await client.hook('notify-faults', { mode: 'duplicate', count: 2 });
                const name = 'two-copies';
                const { prepayId } = await client.placed({ notify_url: receiver.url(name) });
                await client.pay({ prepayId });
                await eventually(() => receiver.of(name).length === 2, 'two copies');
                await sleep(100);
                expect(receiver.of(name)).to.have.length(2);
            });

            it('delay: the first attempt comes after delayMs', async () => {
                await client.hook('notify-faults', { mode: 'delay', delayMs: 400 });
                const name = 'delayed';
                const { prepayId } = await client.placed({ notify_url: receiver.url(name) });
                const started = Date.now();
                await client.pay({ prepayId });
                await sleep(200);
                expect(receiver.of(name)).to.have.length(0);
                await eventually(() => receiver.of(name).length === 1, 'the delayed notification');
                expect(Date.now() - started).to.be.at.least(390);
            });

            it('badsign: a signature that does not verify, on every attempt', async () => {
                await client.hook('notify-faults', { mode: 'badsign' });
                await client.hook('settings', { msPerScheduleSecond: 0.002 });
                try {
                    const name = 'forged';
                    const { outTradeNo, prepayId } = await client.placed({ notify_url: receiver.url(name, (n) => ({ body: verifyV2(receiver.of(name)[n - 1].fields, key) ? successReply : failReply })) });
                    await client.pay({ prepayId });
                    await eventually(() => receiver.of(name).length === 16, 'every attempt');
                    for (const delivery of receiver.of(name)) {
                        expect(delivery.fields.out_trade_no).to.equal(outTradeNo);
                        expect(delivery.fields.sign).to.have.length(32);
                        expect(verifyV2(delivery.fields, key)).to.be.false();
                    }

                    const log = await eventually(async () => (await client.deliveries(outTradeNo)).length === 16 && client.deliveries(outTradeNo), 'the log');
                    expect(log.every((entry) => entry.outcome === 'failed')).to.be.true();
                }
                finally {
                    await client.hook('settings', { msPerScheduleSecond: 1 });
                }
            });

            it('md5: an HMAC-SHA256 order notified with MD5 and no sign_type', async () => {
                await client.hook('notify-faults', { mode: 'md5' });
                const name = 'md5-gotcha';
                const { prepayId } = await client.placed({ notify_url: receiver.url(name) }, 'HMAC-SHA256');
                await client.pay({ prepayId }, 'HMAC-SHA256');
                const [delivery] = await eventually(() => receiver.of(name).length > 0 && receiver.of(name), 'the notification');
                expect(delivery.fields.sign_type).to.not.exist();
                expect(delivery.fields.sign).to.have.length(32);
                expect(delivery.fields.sign).to.equal(signV2(delivery.fields, key, 'MD5'));
                expect(delivery.fields.sign).to.not.equal(signV2(delivery.fields, key, 'HMAC-SHA256'));
                expect(verifyV2(delivery.fields, key)).to.be.true();
            });

            it('refuses an unknown mode, and delay without delayMs', async () => {
                const unknown = await client.hook('notify-faults', { mode: 'explode' });
                expect(unknown.status).to.equal(400);
                expect(unknown.body.message).to.contain('mode');
                const delay = await client.hook('notify-faults', { mode: 'delay' });
                expect(delay.status).to.equal(400);
                expect(delay.body.message).to.contain('delayMs');
            });
        });
    });

    describe('endpoint faults', () => {

        const arm = async (fault: object) => {
            const res = await client.hook('faults', fault);
            expect(res.status, JSON.stringify(res.body)).to.equal(204);
        };

        const calls: Record<string, () => Promise<{ call: () => Promise<V2Answer>; normal: (answer: V2Answer) => void }>> = {
            unifiedorder: async () => {
                const fields = orderFields({});
                return { call: () => client.v2('/pay/unifiedorder', fields), normal: (answer) => expect(answer.fields.prepay_id).to.exist() };
            },
            orderquery: async () => {
                const { outTradeNo } = await client.placed();
                return { call: () => client.v2('/pay/orderquery', { out_trade_no: outTradeNo }), normal: (answer) => expect(answer.fields.trade_state).to.equal('NOTPAY') };
            },
            closeorder: async () => {
                const { outTradeNo } = await client.placed();
                await client.advance(5 * 60_000);        // past WeChat's close window
                return {
                    call: () => client.v2('/pay/closeorder', { out_trade_no: outTradeNo }),
                    normal: (answer) => expect(answer.fields).to.include({ result_code: 'SUCCESS', result_msg: 'OK' })
                };
            }
        };

        for (const [endpoint, prepare] of Object.entries(calls)) {
            describe(endpoint, () => {

                it('errcode: result_code=FAIL with SYSTEMERROR by default, for `times` calls, then normally', async () => {
                    const { call, normal } = await prepare();
                    await arm({ endpoint, kind: 'errcode', times: 2 });
                    expectBusinessError(await call(), key, 'SYSTEMERROR');
                    expectBusinessError(await call(), key, 'SYSTEMERROR');
                    const answer = await call();
                    expectSigned(answer, key);
                    normal(answer);
                });

                it('errcode: the given err_code', async () => {
                    const { call } = await prepare();
                    await arm({ endpoint, kind: 'errcode', code: 'BIZERR_NEED_RETRY' });
                    expectBusinessError(await call(), key, 'BIZERR_NEED_RETRY', /simulated error/);
                });

                it('http500: a 5xx with an HTML body', async () => {
                    const { call, normal } = await prepare();
                    await arm({ endpoint, kind: 'http500' });
                    const answer = await call();
                    expect(answer.status).to.equal(500);
                    expect(answer.contentType).to.startWith('text/html');
                    expect(answer.text).to.startWith('<html>');
                    normal(await call());
                });

                it('timeout: the answer is held delayMs', async () => {
                    const { call, normal } = await prepare();
                    await arm({ endpoint, kind: 'timeout', delayMs: 300 });
                    const started = Date.now();
                    const answer = await call();
                    expect(Date.now() - started).to.be.at.least(290);
                    normal(answer);
                });

                it('badsign: an answer whose signature does not verify', async () => {
                    const { call, normal } = await prepare();
                    await arm({ endpoint, kind: 'badsign' });
                    const answer = await call();
                    expect(answer.fields.return_code).to.equal('SUCCESS');
                    expect(answer.fields.sign).to.have.length(32);
                    expect(verifyV2(answer.fields, key)).to.be.false();
                    normal(answer);
                });
            });
        }

        it('an errcode on unifiedorder creates no order', async () => {
            const fields = orderFields({});
            await arm({ endpoint: 'unifiedorder', kind: 'errcode', code: 'NOAUTH' });
            expectBusinessError(await client.v2('/pay/unifiedorder', fields), key, 'NOAUTH', /权限/);
            expectBusinessError(await client.v2('/pay/orderquery', { out_trade_no: fields.out_trade_no }), key, 'ORDERNOTEXIST');
        });

        it('refuses an unknown endpoint or kind', async () => {
            const endpoint = await client.hook('faults', { endpoint: 'downloadbill', kind: 'errcode' });
            expect(endpoint.status).to.equal(400);
            expect(endpoint.body.message).to.contain('endpoint');
            expect((await client.hook('faults', { endpoint: 'orderquery', kind: 'explode' })).status).to.equal(400);
        });
    });

    describe('hooks', () => {

        it('POST /__sim/settings answers every knob and changes the ones given', async () => {
            const current = await client.hook('settings', {});
            expect(current.body).to.equal({
                plainTextJson: true, msPerScheduleSecond: 1, closeGuardMinutes: 5, timeExpireMinMinutes: 5, requirePaySign: true, closeLagMs: 0, payAfterExpireMs: 0, refundSpacingSeconds: 60, refundProcessingMs: 50
            });
            expect((await client.hook('settings')).body).to.equal(current.body);
            expect((await client.hook('settings', { msPerScheduleSecond: -1 })).status).to.equal(400);

            const changed = await client.hook('settings', { plainTextJson: false });
            expect(changed.body.plainTextJson).to.be.false();
            try {
                const minted = await client.hook('login-codes', {});
                const query = new URLSearchParams({ appid: options.appId, secret: options.appSecret, js_code: minted.body.code, grant_type: 'authorization_code' });
                const res = await http.get(`${server.info.uri}/sns/jscode2session?${query}`);
                expect(String(res.headers['content-type'])).to.startWith('application/json');
                expect(JSON.parse(res.data).openid).to.equal(minted.body.openid);
            }
            finally {
                await client.hook('settings', { plainTextJson: true });
            }
        });

        it('GET /__sim/notifications lists deliveries newest last', async () => {
            const first = await client.placed({ notify_url: receiver.url('log-1') });
            await client.pay({ prepayId: first.prepayId });
            await eventually(() => receiver.of('log-1').length === 1, 'the first');
            const second = await client.placed({ notify_url: receiver.url('log-2') });
            await client.pay({ prepayId: second.prepayId });
            await eventually(async () => (await client.deliveries(second.outTradeNo)).length === 1, 'the second');
            const all = JSON.parse((await http.get(`${server.info.uri}/__sim/notifications`)).data);
            const positions: number[] = [first.outTradeNo, second.outTradeNo].map((outTradeNo) => all.findIndex((entry: any) => entry.outTradeNo === outTradeNo));
            expect(positions[0]).to.be.at.least(0);
            expect(positions[0]).to.be.below(positions[1]);
            expect(Object.keys(all[positions[1]]).sort()).to.equal(['at', 'attempt', 'httpStatus', 'outTradeNo', 'outcome', 'reply', 'transactionId']);
        });
    });
});

describe('a stopping simulator', () => {

    it('releases held requests and cancels pending notifications, retries and deliveries', async () => {
        const receiverHere = new Receiver();
        await receiverHere.start();
        const options = { ...credentials(), defaultSignType: 'HMAC-SHA256' as const, notifySchedule: legacySchedule, plainTextJson: false, closeGuardMinutes: 5 };
        const { server, sandbox } = await startSandboxServer(options);
        const client = new Client(server.info.uri, options);
        const previous = receiver;
        receiver = receiverHere;
        try {
            expect(sandbox.settings).to.equal({
                msPerScheduleSecond: 1000, plainTextJson: false, closeGuardMinutes: 5, timeExpireMinMinutes: 5, requirePaySign: true, closeLagMs: 0, payAfterExpireMs: 0, refundSpacingSeconds: 60, refundProcessingMs: 50
            });

            // A notification waiting for its first retry (15 real seconds away).
            const failing = await client.placed({ notify_url: receiverHere.url('failing', () => ({ body: failReply })) });
            await client.pay({ prepayId: failing.prepayId });
            await eventually(async () => (await client.deliveries(failing.outTradeNo)).length === 1, 'the first attempt');

            // A notification in flight: the merchant takes longer than the server's stop.
            const hanging = await client.placed({ notify_url: receiverHere.url('hanging', () => ({ delayMs: 3000 })) });
            await client.pay({ prepayId: hanging.prepayId });
            await eventually(() => receiverHere.of('hanging').length === 1, 'the hanging delivery');

            // A notification delayed by a minute.
            await client.hook('notify-faults', { mode: 'delay', delayMs: 60_000 });
            const delayed = await client.placed({ notify_url: receiverHere.url('delayed') });
            await client.pay({ prepayId: delayed.prepayId });

            // A request held for the default 10 seconds.
            await client.hook('faults', { endpoint: 'orderquery', kind: 'timeout' });
            const held = client.v2('/pay/orderquery', { out_trade_no: failing.outTradeNo });
            await client.hook('faults', { endpoint: 'jscode2session', kind: 'timeout' });
            const heldLogin = http.get(`${server.info.uri}/sns/jscode2session?appid=${options.appId}`);
            await sleep(100);

            expect(sandbox.waits.pending).to.equal(5);
            const started = Date.now();
            await server.stop({ timeout: 5000 });
            expect(Date.now() - started, 'the stop released the held requests instead of waiting out its 5 s timeout').to.be.below(5000);
            expect(sandbox.waits.pending).to.equal(0);
            const answer = await held;
            expect(answer.fields.trade_state).to.equal('SUCCESS');
            expect(JSON.parse((await heldLogin).data).errcode).to.equal(41004);

            // The HMAC default applies to orders that did not name a sign type.
            const { fields } = receiverHere.of('hanging')[0];
            expect(fields.sign_type).to.equal('HMAC-SHA256');
            expect(verifyV2(fields, options.apiKey)).to.be.true();

            await sleep(100);
            expect(sandbox.notifier.log.map((entry) => entry.outTradeNo)).to.equal([failing.outTradeNo]);
            expect(receiverHere.of('delayed')).to.have.length(0);
            sandbox.stop();
            expect(sandbox.waits.pending).to.equal(0);
        }
        finally {
            receiver = previous;
            await receiverHere.server.stop({ timeout: 100 });
        }
    });

    it('uses the current official schedule by default', () => {
        expect(officialSchedule.reduce((sum, seconds) => sum + seconds, 0)).to.equal(86_640);
        expect(officialSchedule).to.have.length(15);
        expect(legacySchedule).to.equal([15, 15, 30, 180, 1800, 1800, 1800, 1800, 3600]);
    });
});
