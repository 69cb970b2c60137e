import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { decryptGcm, decryptResource, encryptGcm } from '../lib/wechatpay/v3/aead';
import { decryptCertificates } from '../lib/wechatpay/v3/certificates';
import { errorFromAnswer } from '../lib/wechatpay/v3/errors';
import { paidTradeV3, refundResultV3 } from '../lib/wechatpay/v3/resources';
import { authorizationHeader, parseAuthorization, payMessage, requestMessage, responseMessage, rsaSign, rsaVerify } from '../lib/wechatpay/v3/signature';
import { formatRfc3339Beijing, parseRfc3339 } from '../lib/wechatpay/v3/time';
import { V3Verifier } from '../lib/wechatpay/v3/verifier';
import { WechatKeys } from '../sandbox/pay-v3-keys';

const { expect } = Code;
const { describe, it } = exports.lab = Lab.script();

// Reference §7.4: the golden AEAD_AES_256_GCM vector.
const gcmKey = '0123456789ABCDEF0123456789ABCDEF';
const gcmPlaintext = '{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"T1001","transaction_id":"4200000001202401010000000001","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"","success_time":"2024-01-01T12:00:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}';

describe('API v3 protocol (golden vectors of reference §7)', () => {

    it('AEAD_AES_256_GCM matches §7.4 and decrypts back; a flipped bit or a wrong AAD is refused', () => {
        const ciphertext = encryptGcm(gcmPlaintext, gcmKey, 'abcdefghijkl', 'transaction');
        expect(ciphertext.startsWith('E09M0QVpBEo15MBDG/lTT+WzlqWZ9lBAWIm6uUYkSVJmnjVR7gqQbapZ4Aw3qOiJ')).to.be.true();
        expect(ciphertext.endsWith('XMf8NWYkXvtHIWBoA==')).to.be.true();
        expect(decryptGcm(ciphertext, gcmKey, 'abcdefghijkl', 'transaction')).to.equal(gcmPlaintext);
        const resource = { algorithm: 'AEAD_AES_256_GCM', ciphertext, nonce: 'abcdefghijkl', associated_data: 'transaction' };
        expect(paidTradeV3(JSON.parse(decryptResource(resource, gcmKey)))).to.include({ outTradeNo: 'T1001', totalFee: 100, timeEnd: '20240101120000', openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' });

        const bytes = Buffer.from(ciphertext, 'base64');
        bytes[3] ^= 1;
        expect(() => decryptGcm(bytes.toString('base64'), gcmKey, 'abcdefghijkl', 'transaction')).to.throw(/decryption failed/);
        expect(() => decryptGcm(ciphertext, gcmKey, 'abcdefghijkl', 'certificate')).to.throw(/decryption failed/);
        expect(() => decryptGcm(ciphertext, 'short', 'abcdefghijkl', 'transaction')).to.throw(/32 bytes/);
        expect(() => decryptResource({ ...resource, algorithm: 'AES_128' }, gcmKey)).to.throw(/unsupported/);
    });

    it('message formats are §7.5: five request lines, three answer lines, four paySign lines, each ending in \\n', () => {
        expect(requestMessage('get', '/v3/certificates', '1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', '')).to.equal('GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n');
        expect(responseMessage('1554208460', 'N', '')).to.equal('1554208460\nN\n\n');
        expect(payMessage('wx8888888888888888', '1414561699', '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', 'prepay_id=wx201410272009395522657a690389285100'))
            .to.equal('wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n');
    });

    it('RSA-SHA256 signatures verify with the public half only, and not over another message', () => {
        const { privateKey, publicKey } = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const signature = rsaSign('a\n', privateKey);
        expect(rsaVerify('a\n', signature, publicKey)).to.be.true();
        expect(rsaVerify('b\n', signature, publicKey)).to.be.false();
        expect(rsaVerify('a\n', 'not base64 at all!', publicKey)).to.be.false();
    });

    it('the Authorization header round-trips and is read in any order; anything else is refused', () => {
        const fields = { mchid: '1900009191', nonce_str: 'N', timestamp: '1554208460', serial_no: 'ABC123', signature: 'c2ln' };
        const header = authorizationHeader(fields);
        expect(header).to.equal('WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="N",timestamp="1554208460",serial_no="ABC123",signature="c2ln"');
        expect(parseAuthorization(header)).to.equal(fields);
        expect(parseAuthorization('WECHATPAY2-SHA256-RSA2048 signature="c2ln",serial_no="ABC123",timestamp="1554208460",nonce_str="N",mchid="1900009191"')).to.equal(fields);
        expect(parseAuthorization(undefined)).to.be.undefined();
        expect(parseAuthorization(header.replace('WECHATPAY2', 'WECHATPAY3'))).to.be.undefined();
        expect(parseAuthorization(header.replace(',signature="c2ln"', ''))).to.be.undefined();
        expect(parseAuthorization(`${header},mchid="1"`)).to.be.undefined();
        expect(parseAuthorization(header.replace('mchid="1900009191"', 'mchid=1900009191'))).to.be.undefined();
    });

    it('RFC 3339 times are written in Beijing time and read with any offset; impossible dates are refused', () => {
        expect(formatRfc3339Beijing(new Date('2015-05-20T05:29:35Z'))).to.equal('2015-05-20T13:29:35+08:00');
        expect(parseRfc3339('2015-05-20T13:29:35+08:00')!.toISOString()).to.equal('2015-05-20T05:29:35.000Z');
        expect(parseRfc3339('2015-05-20T05:29:35Z')!.toISOString()).to.equal('2015-05-20T05:29:35.000Z');
        expect(parseRfc3339('2015-05-19T21:29:35.5-08:00')!.toISOString()).to.equal('2015-05-20T05:29:35.000Z');
        for (const bad of ['20150520132935', '2015-05-20 13:29:35', '2015-02-30T00:00:00+08:00', '2015-05-20T24:00:00+08:00', '2015-05-20T13:29:35']) {
            expect(parseRfc3339(bad), bad).to.be.undefined();
        }
    });

    it('the verifier refuses what every SDK refuses before a key is even looked up', async () => {
        const { privateKey, publicKey } = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const now = Date.now();
        const verifier = new V3Verifier({ publicKey: { id: 'PUB_KEY_ID_0100000000000000000000000000000001', key: publicKey } }, () => now);
        const signedHeaders = (body: string, timestamp = String(Math.floor(now / 1000))) => ({
            'wechatpay-timestamp': timestamp,
            'wechatpay-nonce': 'NONCE',
            'wechatpay-serial': 'PUB_KEY_ID_0100000000000000000000000000000001',
            'wechatpay-signature': rsaSign(responseMessage(timestamp, 'NONCE', body), privateKey),
            'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048'
        });
        expect(await verifier.verify(signedHeaders('{}'), '{}')).to.equal('PUB_KEY_ID_0100000000000000000000000000000001');
        // Header names are matched whatever their case.
        const upper = Object.fromEntries(Object.entries(signedHeaders('{}')).map(([name, value]) => [name.toUpperCase(), value]));
        expect(await verifier.verify(upper, '{}')).to.equal('PUB_KEY_ID_0100000000000000000000000000000001');
        await expect(verifier.verify(signedHeaders('{}'), '{} ')).to.reject(/does not verify/);
        await expect(verifier.verify({ ...signedHeaders('{}'), 'wechatpay-signature': undefined }, '{}')).to.reject(/missing/);
        await expect(verifier.verify({ ...signedHeaders('{}'), 'wechatpay-signature-type': 'WECHATPAY-BRAND-SHA256-RSA2048' }, '{}')).to.reject(/Signature-Type/);
        await expect(verifier.verify({ ...signedHeaders('{}'), 'wechatpay-signature': 'WECHATPAY/SIGNTEST/abc' }, '{}')).to.reject(/SIGNTEST/);
        await expect(verifier.verify(signedHeaders('{}', String(Math.floor(now / 1000) - 300)), '{}')).to.reject(/not within 300 s/);
        await expect(verifier.verify(signedHeaders('{}', String(Math.floor(now / 1000) + 301)), '{}')).to.reject(/not within 300 s/);
        await expect(verifier.verify(signedHeaders('{}', '12ab'), '{}')).to.reject(/not within/);
        expect(await verifier.verify(signedHeaders('{}', String(Math.floor(now / 1000) - 299)), '{}')).to.exist();
        await expect(verifier.verify({ ...signedHeaders('{}'), 'wechatpay-serial': '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' }, '{}')).to.reject(/no WeChat Pay public key or platform certificate/);
    });

    it('certificates: decrypted with the APIv3 key; one whose serial is not its own, or expired, is dropped', () => {
        const now = Date.now();
        const keys = new WechatKeys(now);
        const [entry] = keys.certificateEntries(gcmKey, now);
        const [certificate] = decryptCertificates([entry], gcmKey, now);
        expect(certificate.serial).to.equal(keys.newestPlatform.serial);
        expect(certificate.key.export({ type: 'spki', format: 'pem' })).to.equal(Crypto.createPublicKey(keys.newestPlatform.privateKey).export({ type: 'spki', format: 'pem' }));
        expect(decryptCertificates([{ ...entry, serial_no: 'ABCDEF' }], gcmKey, now)).to.equal([]);
        expect(decryptCertificates([entry], gcmKey, keys.newestPlatform.expiresAt)).to.equal([]);
        expect(() => decryptCertificates([entry], '0'.repeat(32), now)).to.throw(/decryption failed/);
    });

    it('v3 error codes map to the v2 spelling; SYSTEM_ERROR and code-less 5xx are transient, business refusals are not', () => {
        expect(errorFromAnswer('/p', 500, 'SYSTEM_ERROR', 'busy')).to.include({ transient: true, errCode: 'SYSTEMERROR', status: 500, code: 'SYSTEM_ERROR' });
        expect(errorFromAnswer('/p', 400, 'ORDER_CLOSED', 'x')).to.include({ transient: false, errCode: 'ORDERCLOSED' });
        expect(errorFromAnswer('/p', 400, 'ORDERPAID', 'x')).to.include({ transient: false, errCode: 'ORDERPAID' });
        expect(errorFromAnswer('/p', 404, 'ORDER_NOT_EXIST', 'x')).to.include({ transient: false, errCode: 'ORDERNOTEXIST' });
        expect(errorFromAnswer('/p', 500, 'OPENID_MISMATCH', 'x')).to.include({ transient: false, errCode: 'OPENID_MISMATCH' });
        expect(errorFromAnswer('/p', 403, 'NO_AUTH', 'x')).to.include({ transient: false, errCode: 'NOAUTH' });
        expect(errorFromAnswer('/p', 502, undefined, undefined)).to.include({ transient: true, errCode: undefined });
        expect(errorFromAnswer('/p', 404, undefined, undefined)).to.include({ transient: false });
    });

    it('resources with a wrong amount type or an unknown refund status cannot pass as valid', () => {
        expect(paidTradeV3({ amount: { total: '100' } }).totalFee).to.be.NaN();
        expect(paidTradeV3({ amount: { total: 1.5 } }).totalFee).to.be.NaN();
        expect(paidTradeV3({ success_time: 'yesterday' }).timeEnd).to.equal('');
        const refund = refundResultV3({ refund_status: 'SUCCESS', amount: { refund: 5, total: 10 }, success_time: '2024-01-01T12:00:00+08:00' });
        expect(refund).to.include({ status: 'SUCCESS', refund: 5, total: 10 });
        expect(refund.successTime!.toISOString()).to.equal('2024-01-01T04:00:00.000Z');
        expect(refundResultV3({ status: 'WHATEVER' }).status).to.equal('ABNORMAL');
    });
});
