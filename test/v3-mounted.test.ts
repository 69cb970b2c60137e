import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import axios from 'axios';

import { payV3ClientFromConfig } from '../lib/wechatpay/v3/from-config';
import { decodeNotification } from '../lib/wechatpay/v3/notify';
import { eventually, startApp, TestApp } from './helpers';
import { v3Env } from './v3-app';
import { tradeNo, V3Receiver } from './v3-helpers';

/** The simulator mounted at /sandbox with this server's own v3 material (SANDBOX=true): the path prefix is signed too. */

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const http = axios.create({ validateStatus: () => true, proxy: false });
const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

describe('API v3 through the simulator mounted on the app', () => {
    const receiver = new V3Receiver();
    let notifyUrl: string;
    const apps: TestApp[] = [];

    before(async () => {
        notifyUrl = await receiver.start();
    });

    after(async () => {
        await receiver.server.stop({ timeout: 100 });
        for (const app of apps) {
            await app.stop();
        }
    });

    for (const mode of ['publicKey', 'platform', 'switch'] as const) {
        it(`${mode} mode: order, pay, notification and query through /sandbox`, async () => {
            const app = await startApp(v3Env(mode));
            apps.push(app);
            expect(app.config.v3.apiVersion).to.equal('v3');
            const client = payV3ClientFromConfig(app.config, () => `${app.base}/sandbox`)!;
            const outTradeNo = tradeNo();
            const { prepayId } = await client.prepay({ tradeType: 'JSAPI', outTradeNo, description: 'mounted', total: 321, openid, notifyUrl, timeExpire: new Date(Date.now() + 600_000) });
            const paid = await http.post(`${app.base}/sandbox/__sim/v3/pay`, { prepayId, ...client.requestPayment(prepayId!) });
            expect(paid.status).to.equal(200);
            const { headers, body } = await eventually(() => receiver.received[0], 'the notification');
            receiver.received.length = 0;
            const notification = await decodeNotification(headers, body, client.verifier, app.config.v3.material!.apiV3Key);
            expect(notification.kind === 'payment' && notification.trade).to.include({ outTradeNo, totalFee: 321, appId: app.config.wechat.appId, mchId: app.config.pay.mchId });
            const queried = await client.query(outTradeNo);
            expect(queried.state).to.equal('SUCCESS');
            expect(app.sandbox.v3!.settings.mode).to.equal(mode);
            if (mode !== 'switch') {
                // During the switch-over a callback may come signed either way, so a download may or may not happen.
                expect(client.certificates?.downloads ?? 0).to.equal(mode === 'platform' ? 1 : 0);
            }
        });
    }

    it('without v3 material the app stays on v2 and the simulator has no v3 side', async () => {
        const app = await startApp();
        apps.push(app);
        expect(app.config.v3.apiVersion).to.equal('v2');
        expect(payV3ClientFromConfig(app.config, () => app.base)).to.be.undefined();
        expect(app.sandbox.v3).to.be.undefined();
        expect((await http.get(`${app.base}/sandbox/__sim/v3/keys`)).status).to.equal(404);
    });
});
