import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { buildApp, startBanner } from '../app';
import { loadConfig } from '../config';
import { demoV3Dir } from '../config/demo-v3';
import type { AppContext } from '../lib/context';
import { requestRefund } from '../lib/refunds/request';
import { curl, eventually, eventuallyStatus, pay, prepayOf, sim, startApp, testEnv, unpaidOrder } from './helpers';
import { v3Env } from './v3-app';

/** The demo on v3 (WECHATPAY_API_VERSION=v3 with no credentials) and a v3-only merchant (no v2 key). */

const { expect } = Code;
const { describe, it } = exports.lab = Lab.script();

describe('the demo on WeChat Pay API v3', () => {
    it('generates public-key-mode material into data/, says where, and the curl story (login → order → pay → phone pays → paid → refund) runs on v3', async () => {
        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-v3demo-'));
        const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', JOBS: 'false', WECHATPAY_API_VERSION: 'v3' });
        expect(config.demo).to.be.true();
        expect(config.v3.apiVersion).to.equal('v3');
        expect(config.v3.material!.publicKey!.id).to.startWith('PUB_KEY_ID_');
        expect(config.v3.material!.platformCerts).to.be.false();
        expect(Fs.existsSync(Path.join(demoV3Dir(dataDir), 'apiclient_key.pem'))).to.be.true();
        expect(startBanner(config, 'http://127.0.0.1:1').join('\n')).to.contain(demoV3Dir(dataDir));
        // The same material on the next start.
        const again = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', JOBS: 'false', WECHATPAY_API_VERSION: 'v3' });
        expect(again.v3.material!.apiV3Key).to.equal(config.v3.material!.apiV3Key);

        const { server, context } = await buildApp(config);
        await server.start();
        try {
            const base = server.info.uri;
            const { code } = (await curl(base, 'POST', '/sandbox/__sim/login-codes')).body;
            const { token } = (await curl(base, 'POST', '/users/login', { code })).body;
            const order = await curl(base, 'POST', '/orders', { goodsList: [{ goodsId: 1, count: 1 }] }, token);
            expect(order.status).to.equal(201);
            const pay = await curl(base, 'POST', `/orders/${order.body.id}/pay`, {}, token);
            expect(pay.status).to.equal(200);
            expect(pay.body.signType).to.equal('RSA');
            const paid = await curl(base, 'POST', '/sandbox/__sim/v3/pay', { prepayId: pay.body.package.slice(10), ...pay.body });
            expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
            const synced = await curl(base, 'GET', `/orders/${order.body.id}?sync=true`, undefined, token);
            expect(synced.body.status).to.equal('paid');

            const { refund } = await requestRefund((context as AppContext).refunds, { orderId: order.body.id, amount: synced.body.totalFee, reason: 'demo', actor: { kind: 'staff', id: 1 } });
            await curl(base, 'POST', '/sandbox/__sim/clock', { advanceMs: 10_000 });
            await eventually(async () => (await curl(base, 'GET', `/orders/${order.body.id}`, undefined, token)).body.status === 'refunded', `refund ${refund.outRefundNo} to end`);
        }
        finally {
            await server.stop();
        }
    });
});

describe('a v3-only merchant', () => {
    it('starts without WECHATPAY_KEY, has no v2 notify URLs, and takes payments over v3', async () => {
        const app = await startApp({ ...v3Env('publicKey'), WECHATPAY_KEY: undefined });
        try {
            expect(app.config.pay.apiKey).to.equal('');
            expect(app.context.payApiVersion).to.equal('v3');
            expect((await app.server.inject({ method: 'POST', url: '/orders/pay/notify', payload: '<xml></xml>' })).statusCode).to.equal(404);
            expect((await app.server.inject({ method: 'POST', url: '/orders/refund/notify', payload: '<xml></xml>' })).statusCode).to.equal(404);
            const refused = await app.server.inject({ method: 'POST', url: '/orders/pay/notify/v3', payload: '{}' });
            expect(refused.statusCode).to.equal(400);
            expect(JSON.parse(refused.payload).code).to.equal('FAIL');

            // v3 refunds need no merchant API certificate (none is configured here): every request is RSA-signed.
            expect(app.config.refunds.clientCertificate).to.be.undefined();
            const { user, order } = await unpaidOrder(app, { price: 600 });
            const params = (await pay(app, user, order.id)).body;
            expect((await sim(app, 'v3/pay', { prepayId: prepayOf(params), ...params })).statusCode).to.equal(200);
            await eventuallyStatus(app, user, order.id, 'paid');
            const { refund } = await requestRefund(app.context.refunds, { orderId: order.id, amount: 600, reason: 'returned', actor: { kind: 'staff', id: 1 } });
            expect(refund.refundId).to.exist();
        }
        finally {
            await app.stop();
        }
    });

    it('still needs WECHATPAY_KEY when new payments stay on v2', () => {
        expect(() => loadConfig(testEnv({ ...v3Env('publicKey'), WECHATPAY_KEY: undefined, WECHATPAY_API_VERSION: 'v2' }))).to.throw(/WECHATPAY_KEY must be set too/);
    });
});
