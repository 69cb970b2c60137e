import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import axios from 'axios';
import { Aes, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';

import { decodeNotification, NotificationError } from '../lib/wechatpay/v3/notify';
import { eventually } from './helpers';
import { startV3World, tradeNo, V3Receiver, V3World } from './v3-helpers';

/**
 * An independent check: wechatpay-axios-plugin (not our code) signs requests to the simulator and verifies its
 * answers itself; notifications built with its Rsa and AesGcm helpers are accepted by our decoder; our paySign
 * verifies with its Rsa.verify.
 */

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';
const http = axios.create({ validateStatus: () => true, proxy: false });

let world: V3World;
let receiver: V3Receiver;
let notifyUrl: string;

function plugin(certs: Record<string, string>) {
    return new Wechatpay({
        mchid: world.mchId,
        serial: world.mchSerial,
        privateKey: world.mchPrivateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        certs,
        baseURL: `${world.base}/`,
        proxy: false
    } as any) as any;
}

function publicKeyPem(): string {
    return world.publicKey.export({ type: 'spki', format: 'pem' }) as string;
}

/** A notification as WeChat would send it, built only with the plugin's helpers. */
function pluginNotification(eventType: string, originalType: string, resource: object, timestamp = Formatter.timestamp()) {
    const nonce = Formatter.nonce(12);
    const body = JSON.stringify({
        id: `EV-${Formatter.nonce(16)}`,
        create_time: '2026-12-01T12:00:00+08:00',
        resource_type: 'encrypt-resource',
        event_type: eventType,
        summary: 'ok',
        resource: { original_type: originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext: Aes.AesGcm.encrypt(JSON.stringify(resource), world.apiV3Key, nonce, originalType), associated_data: originalType, nonce }
    });
    const headerNonce = Formatter.nonce();
    const signature = Rsa.sign(Formatter.response(timestamp, headerNonce, body), world.sandbox.v3!.keys.publicKey.privateKey);
    return {
        body,
        headers: {
            'wechatpay-timestamp': String(timestamp),
            'wechatpay-nonce': headerNonce,
            'wechatpay-signature': signature,
            'wechatpay-serial': world.publicKeyId,
            'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048'
        }
    };
}

describe('API v3, checked by wechatpay-axios-plugin', () => {

    before(async () => {
        world = await startV3World('publicKey');
        receiver = new V3Receiver();
        notifyUrl = await receiver.start();
        // Off by name: this test is about the plugin verifying every answer, close included, not about WeChat's close
        // window (test/v3-client.test.ts covers the window).
        await http.post(`${world.base}/__sim/settings`, { closeGuardMinutes: 0 });
    });

    after(async () => {
        await receiver.server.stop({ timeout: 100 });
        await world.stop();
    });

    it('drives prepay, query, close and refunds in public-key mode and verifies every answer itself', async () => {
        const wxpay = plugin({ [world.publicKeyId]: publicKeyPem() });
        const outTradeNo = tradeNo();
        const order = { appid: world.appId, mchid: world.mchId, description: 'axios-plugin', out_trade_no: outTradeNo, notify_url: notifyUrl, amount: { total: 200, currency: 'CNY' }, payer: { openid } };
        const prepay = await wxpay.v3.pay.transactions.jsapi.post(order);
        expect(prepay.status).to.equal(200);
        expect(prepay.data.prepay_id).to.match(/^wx\d{14}[0-9a-f]{20}$/);
        expect(prepay.headers['wechatpay-serial']).to.equal(world.publicKeyId);

        const queried = await wxpay.v3.pay.transactions.outTradeNo.$out_trade_no$.get({ params: { mchid: world.mchId }, out_trade_no: outTradeNo });
        expect(queried.data).to.include({ out_trade_no: outTradeNo, trade_state: 'NOTPAY', mchid: world.mchId });

        // The phone pays; the plugin queries the paid order and refunds part of it.
        const { data: paid } = await http.post(`${world.base}/__sim/v3/pay`, { prepayId: prepay.data.prepay_id, ...world.client('publicKey').requestPayment(prepay.data.prepay_id) });
        const byId = await wxpay.v3.pay.transactions.id._transaction_id_.get({ params: { mchid: world.mchId }, transaction_id: paid.transactionId });
        expect(byId.data).to.include({ trade_state: 'SUCCESS', transaction_id: paid.transactionId });
        expect(byId.data.amount).to.include({ total: 200, payer_total: 200 });
        const outRefundNo = `R${tradeNo()}`;
        const refund = await wxpay.v3.refund.domestic.refunds.post({ out_trade_no: outTradeNo, out_refund_no: outRefundNo, amount: { refund: 50, total: 200, currency: 'CNY' } });
        expect(refund.data).to.include({ out_refund_no: outRefundNo, status: 'PROCESSING' });
        expect(refund.data.amount).to.include({ refund: 50, total: 200 });
        const refundQuery = await wxpay.v3.refund.domestic.refunds.$out_refund_no$.get({ out_refund_no: outRefundNo });
        expect(refundQuery.data.refund_id).to.equal(refund.data.refund_id);

        // Close is a 204 with an empty body, still signed: the plugin verifies `ts\nnonce\n\n`.
        const other = tradeNo();
        await wxpay.v3.pay.transactions.native.post({ ...order, payer: undefined, out_trade_no: other });
        const closed = await wxpay.v3.pay.transactions.outTradeNo.$out_trade_no$.close.post({ mchid: world.mchId }, { out_trade_no: other });
        expect(closed.status).to.equal(204);
        expect(closed.headers['wechatpay-signature']).to.exist();

        // The v3 error model, as the plugin reports it.
        const refused = await wxpay.v3.pay.transactions.outTradeNo.$out_trade_no$.close.post({ mchid: world.mchId }, { out_trade_no: outTradeNo }).catch((err: any) => err.response);
        expect(refused.status).to.equal(400);
        expect(refused.data).to.include({ code: 'ORDERPAID' });
    });

    it('the plugin refuses the simulator\'s answers when it trusts another key, and when they are probes or stale', async () => {
        const stranger = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
        const order = { appid: world.appId, mchid: world.mchId, description: 'x', out_trade_no: tradeNo(), notify_url: notifyUrl, amount: { total: 1 }, payer: { openid } };
        const wrongKey = await expect(plugin({ [world.publicKeyId]: stranger }).v3.pay.transactions.jsapi.post(order) as Promise<unknown>).to.reject();
        expect((wrongKey as any).code).to.equal('EV3_RES_HEADER_SIGNATURE_DIGEST');
        const wxpay = plugin({ [world.publicKeyId]: publicKeyPem() });
        const expected: Record<string, string> = { signtest: 'EV3_RES_HEADER_SIGNATURE_DIGEST', stale: 'EV3_RES_HEADER_TIMESTAMP_OFFSET', unknownserial: 'EV3_RES_HEADER_PLATFORM_SERIAL', badsign: 'EV3_RES_HEADER_SIGNATURE_DIGEST', nosign: 'EV3_RES_HEADERS_INCOMPLATE' };
        for (const [kind, code] of Object.entries(expected)) {
            await http.post(`${world.base}/__sim/v3/faults`, { endpoint: 'jsapi', kind });
            const err = await expect(wxpay.v3.pay.transactions.jsapi.post({ ...order, out_trade_no: tradeNo() }) as Promise<unknown>, kind).to.reject();
            expect((err as any).code, kind).to.equal(code);
        }
    });

    it('platform-certificate mode: the plugin downloads /v3/certificates, verifies it and decrypts each certificate with AesGcm', async () => {
        await http.post(`${world.base}/__sim/v3/settings`, { mode: 'platform' });
        try {
            const keys = world.sandbox.v3!.keys;
            const wxpay = plugin({ [keys.newestPlatform.serial]: keys.newestPlatform.certificatePem });
            const { data } = await wxpay.v3.certificates.get();
            expect(data.data).to.have.length(keys.platform.length);
            const entry = data.data.find((item: any) => item.serial_no === keys.newestPlatform.serial);
            const { nonce, associated_data: aad, ciphertext } = entry.encrypt_certificate;
            const pem = Aes.AesGcm.decrypt(ciphertext, world.apiV3Key, nonce, aad);
            expect(new Crypto.X509Certificate(pem).serialNumber).to.equal(keys.newestPlatform.serial);
        }
        finally {
            await http.post(`${world.base}/__sim/v3/settings`, { mode: 'publicKey' });
        }
    });

    it('our notify decoder accepts notifications built with the plugin\'s helpers, and refuses them altered, stale or probed', async () => {
        const client = world.client('publicKey');
        const transaction = {
            appid: world.appId, mchid: world.mchId, out_trade_no: 'T1001', transaction_id: '4200000001202401010000000001', trade_type: 'JSAPI',
            trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', attach: '', success_time: '2024-01-01T12:00:00+08:00',
            payer: { openid }, amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' }
        };
        const payment = pluginNotification('TRANSACTION.SUCCESS', 'transaction', transaction, Math.floor(world.sandbox.clock.now() / 1000));
        const decoded = await decodeNotification(payment.headers, Buffer.from(payment.body), client.verifier, world.apiV3Key);
        expect(decoded.kind === 'payment' && decoded.trade).to.include({ appId: world.appId, outTradeNo: 'T1001', transactionId: '4200000001202401010000000001', totalFee: 100, openid, timeEnd: '20240101120000' });

        const refund = pluginNotification('REFUND.SUCCESS', 'refund', {
            mchid: world.mchId, out_trade_no: 'T1001', transaction_id: '4200000001202401010000000001', out_refund_no: 'R1001', refund_id: '50000408942018111907145868882',
            refund_status: 'SUCCESS', success_time: '2024-01-01T13:00:00+08:00', user_received_account: '支付用户零钱', amount: { total: 100, refund: 40, payer_total: 100, payer_refund: 40 }
        }, Math.floor(world.sandbox.clock.now() / 1000));
        const refunded = await decodeNotification(refund.headers, refund.body, client.verifier, world.apiV3Key);
        expect(refunded.kind === 'refund' && refunded.refund).to.include({ outRefundNo: 'R1001', status: 'SUCCESS', refund: 40, total: 100 });

        await expect(decodeNotification(payment.headers, payment.body.replace('"T', '"X'), client.verifier, world.apiV3Key)).to.reject(NotificationError, /not verified/);
        await expect(decodeNotification({ ...payment.headers, 'wechatpay-signature': `WECHATPAY/SIGNTEST/${payment.headers['wechatpay-signature']}` }, payment.body, client.verifier, world.apiV3Key)).to.reject(NotificationError, /SIGNTEST/);
        const stale = pluginNotification('TRANSACTION.SUCCESS', 'transaction', transaction, Math.floor(world.sandbox.clock.now() / 1000) - 600);
        await expect(decodeNotification(stale.headers, stale.body, client.verifier, world.apiV3Key)).to.reject(NotificationError, /not within 300 s/);
        await expect(decodeNotification(payment.headers, payment.body, client.verifier, '0'.repeat(32))).to.reject(NotificationError, /undecryptable/);
        const unexpected = pluginNotification('TRANSACTION.CLOSED', 'transaction', transaction, Math.floor(world.sandbox.clock.now() / 1000));
        await expect(decodeNotification(unexpected.headers, unexpected.body, client.verifier, world.apiV3Key)).to.reject(NotificationError, /unexpected event_type/);
    });

    it('the plugin verifies our paySign and the simulator\'s notifications (signature and AesGcm resource)', async () => {
        const client = world.client('publicKey');
        const outTradeNo = tradeNo();
        const { prepayId } = await client.prepay({ tradeType: 'JSAPI', outTradeNo, description: 'x', total: 88, openid, notifyUrl, timeExpire: new Date(world.sandbox.clock.now() + 600_000) });
        const params = client.requestPayment(prepayId!);
        expect(Rsa.verify(Formatter.joinedByLineFeed(params.appId, params.timeStamp, params.nonceStr, params.package), params.paySign, Crypto.createPublicKey(world.mchPrivateKey))).to.be.true();

        receiver.received.length = 0;
        await http.post(`${world.base}/__sim/v3/pay`, { prepayId, ...params });
        const { headers, body } = await eventually(() => receiver.received[0], 'the notification');
        const text = body.toString('utf8');
        expect(Rsa.verify(Formatter.response(String(headers['wechatpay-timestamp']), String(headers['wechatpay-nonce']), text), String(headers['wechatpay-signature']), world.publicKey)).to.be.true();
        const { resource } = JSON.parse(text);
        const plaintext = JSON.parse(Aes.AesGcm.decrypt(resource.ciphertext, world.apiV3Key, resource.nonce, resource.associated_data));
        expect(plaintext).to.include({ out_trade_no: outTradeNo, trade_state: 'SUCCESS' });
        expect(plaintext.amount).to.include({ total: 88 });
    });
});
