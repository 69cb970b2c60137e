import * as Https from 'https';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';
import axios from 'axios';

import { requestRefund } from '../lib/refunds/request';
import { ThrowawayCa } from '../lib/tls/throwaway-ca';
import { PayError, PayV2Client } from '../lib/wechatpay/client';
import { merchantTlsAgent, submitRefund } from '../lib/wechatpay/refund';
import type { Sandbox } from '../sandbox';
import { startSandboxServer } from '../sandbox/server';
import { credentialsEnv, eventuallyStatus, pay, sandboxCredentials, startApp, TestApp, unpaidOrder } from './helpers';
import { eventuallyRefund, refundContext, testCertificates } from './refund-support';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('refunds over mutual TLS to the standalone simulator', () => {

    const credentials = sandboxCredentials();
    let ca: ThrowawayCa;
    let wechat: { server: Hapi.Server; sandbox: Sandbox };
    let app: TestApp;
    let trustCa: Https.Agent;

    before(async () => {
        const material = testCertificates(credentials.mchId);
        ca = material.ca;
        wechat = await startSandboxServer(credentials, 0, '127.0.0.1', { ca });
        wechat.sandbox.settings.msPerScheduleSecond = 1;
        trustCa = new Https.Agent({ ca: ca.pem.cert, keepAlive: false });
        app = await startApp({
            ...credentialsEnv(credentials),
            // Login stays on the simulator mounted in-process; WeChat Pay is the standalone one, over HTTPS.
            WECHATPAY_API_BASE: wechat.server.info.uri,
            WECHATPAY_API_CA: ca.pem.cert,
            WECHATPAY_CERT: material.cert,
            WECHATPAY_CERT_KEY: material.key
        });
    });

    after(async () => {
        await app.stop();
        await wechat.server.stop({ timeout: 1000 });
    });

    const client = (agent: Https.Agent) => new PayV2Client({
        appId: credentials.appId,
        mchId: credentials.mchId,
        apiKey: credentials.apiKey,
        signType: 'MD5',
        baseUrl: () => wechat.server.info.uri,
        timeoutMs: 2000,
        attempts: 1,
        httpsAgent: agent
    });

    const refundRequest = (outTradeNo: string) => ({ outTradeNo, outRefundNo: `RTLS${Date.now()}`, totalFee: 990, refundFee: 990, reason: 'tls', notifyUrl: `${app.base}/orders/refund/notify` });

    it('serves HTTPS, pays an order over it, and refunds it through /secapi/ with the merchant certificate', async () => {
        expect(wechat.server.info.protocol).to.equal('https');
        const { user, order } = await unpaidOrder(app, { price: 990 });
        const params = (await pay(app, user, order.id)).body;
        expect(String(params.package).startsWith('prepay_id=')).to.be.true();
        const paid = await axios.post(`${wechat.server.info.uri}/__sim/pay`, { prepayId: params.package.slice('prepay_id='.length), ...params }, { httpsAgent: trustCa });
        expect(paid.status).to.equal(200);
        await eventuallyStatus(app, user, order.id, 'paid');

        const { refund } = await requestRefund(refundContext(app), { orderId: order.id, amount: 990, reason: 'over TLS', actor: { kind: 'staff', id: 1 } });
        expect(refund.submittedAt).to.not.be.null();
        expect(refund.refundId).to.match(/^\d{29}$/);
        await eventuallyRefund(refund.id, 'succeeded');
        expect((await eventuallyStatus(app, user, order.id, 'refunded')).refundedFee).to.equal(990);
    });

    it('ends the connection of a /secapi/ call without a client certificate', async () => {
        const err = await expect(submitRefund(client(merchantTlsAgent(undefined, ca.pem.cert)), refundRequest('T-none'))).to.reject(PayError);
        expect((err as PayError).transient).to.be.true();
        expect(wechat.sandbox.refunds.byOutRefundNo.size).to.equal(1);
    });

    it('answers "certificate not match" to a certificate of another CA or another merchant', async () => {
        const stranger = ThrowawayCa.create('not WeChat').issueMerchant(credentials.mchId);
        const other = ca.issueMerchant('1900000001');
        for (const certificate of [stranger, other]) {
            const err = await expect(submitRefund(client(merchantTlsAgent(certificate, ca.pem.cert)), refundRequest('T-other'))).to.reject(PayError);
            expect(err.message).to.contain('certificate not match');
            expect((err as PayError).transient).to.be.false();
        }

        expect(wechat.sandbox.refunds.byOutRefundNo.size).to.equal(1);
    });
});
