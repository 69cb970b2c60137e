import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';

import { buildApp } from '../app';
import { loadConfig } from '../config';
import { curl, eventually } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const readme = Fs.readFileSync(Path.join(__dirname, '..', 'README.md'), 'utf8');

describe("the README's shipping story, in demo mode on a real port", () => {

    let server: Hapi.Server;
    let base: string;
    let dataDir: string;

    before(async () => {
        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-ship-story-'));
        ({ server } = await buildApp(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', JOBS_INTERVAL_MS: '50' })));
        await server.start();
        base = server.info.uri;
    });

    after(() => server.stop());

    it('a paid order shipped by demo-operator, confirmed by the buyer, completed, and the buyer told', async () => {
        const story = readme.slice(readme.indexOf('## Shipping and settlement'), readme.indexOf('## Configuration'));
        for (const step of ['"username\\":\\"demo-operator\\"', '/merchant/orders/$ORDER/shipments', '/sandbox/__sim/ops/orders/$TX', '/sandbox/__sim/ops/confirm-receipt', '/sandbox/__sim/ops/messages']) {
            expect(story).to.contain(step);
        }

        const { code } = (await curl(base, 'POST', '/sandbox/__sim/login-codes')).body;
        const { token } = (await curl(base, 'POST', '/users/login', { code })).body;
        const order = (await curl(base, 'POST', '/orders', { goodsList: [{ goodsId: 1, count: 2 }] }, token)).body;
        const pay = (await curl(base, 'POST', `/orders/${order.id}/pay`, {}, token)).body;
        expect((await curl(base, 'POST', '/sandbox/__sim/pay', { prepayId: pay.package.slice(10), ...pay })).status).to.equal(200);
        const paid = await eventually(async () => {
            const res = await curl(base, 'GET', `/orders/${order.id}?sync=true`, undefined, token);
            return res.body.status === 'paid' && res.body;
        }, 'the order to be paid');
        const tx = paid.transactionId;

        const secrets = JSON.parse(Fs.readFileSync(Path.join(dataDir, 'demo-secrets.json'), 'utf8'));
        const operator = (await curl(base, 'POST', '/merchant/login', { username: 'demo-operator', password: secrets.merchantOperatorPassword })).body.token;
        expect((await curl(base, 'GET', '/merchant/delivery-companies', undefined, operator)).body).to.contain({ id: 'SF', name: '顺丰速运' });
        expect((await curl(base, 'POST', '/sandbox/__sim/ops/subscribe', { transactionId: tx, templateId: 'sandbox-ship-notice' })).status).to.equal(200);
        expect((await curl(base, 'POST', '/sandbox/__sim/ops/settings', { shippingSyncLagSeconds: 0 })).status).to.equal(200);
        const shipped = await curl(base, 'POST', `/merchant/orders/${order.id}/shipments`, { logisticsType: 1, shippingList: [{ trackingNo: 'SF1234567890', expressCompany: 'SF', contact: { receiverContact: '189****1234' } }] }, operator);
        expect(shipped.status).to.equal(201);

        const record = await eventually(async () => {
            const res = await curl(base, 'GET', `/sandbox/__sim/ops/orders/${tx}`);
            return res.body.order_state === 2 && res.body;
        }, "WeChat's record to show the shipment");
        expect(record.shipping.shipping_list[0]).to.include({ tracking_no: 'SF1234567890', express_company: 'SF' });

        expect((await curl(base, 'POST', '/sandbox/__sim/ops/confirm-receipt', { transactionId: tx })).status).to.equal(200);
        const done = (await curl(base, 'GET', `/orders/${order.id}`, undefined, token)).body;
        expect(done.status).to.equal('completed');
        expect(done.shipments[0].parcels[0].trackingNo).to.equal('SF1234567890');

        const messages = await eventually(async () => {
            const sent = (await curl(base, 'GET', '/sandbox/__sim/ops/messages')).body;
            return sent.length > 0 && sent;
        }, 'the ship notice');
        expect(messages[0].templateId).to.equal('sandbox-ship-notice');
        expect(messages[0].data.character_string2.value).to.equal('SF1234567890');
    });
});
