import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';

import { buildApp } from '../app';
import { loadConfig } from '../config';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const readme = Fs.readFileSync(Path.join(__dirname, '..', 'README.md'), 'utf8');

/** curl: a real request to a real port, JSON in and out. */
async function curl(base: string, method: string, path: string, body?: object, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body ? JSON.stringify(body) : undefined
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
    for (let tries = 0; tries < 400; ++tries) {
        const value = await check();
        if (value !== undefined) {
            return value;
        }

        await new Promise((resolve) => setTimeout(resolve, 50));
    }

    throw new Error(`timed out waiting for ${what}`);
}

describe("the README's merchant story (demo mode, curl alone)", () => {

    let server: Hapi.Server;
    let base: string;
    let dataDir: string;

    before(async () => {
        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-merchant-story-'));
        // Demo mode as `npm start` runs it (its jobs on, only more often so the test is short).
        ({ server } = await buildApp(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', JOBS_INTERVAL_MS: '100' })));
        await server.start();
        base = server.info.uri;
    });

    after(() => server.stop());

    it('is in the README as the test runs it', () => {
        const story = readme.slice(readme.indexOf("The merchant's story with curl"));
        for (const line of ['merchantOwnerPassword', '$B/merchant/login', '$B/merchant/shops', '$B/merchant/goods', '/sandbox/__sim/pay', 'paySign',
            '"$B/merchant/orders?status=paid"', '$B/merchant/orders/$ORDER/refunds', '{"amount":3000,', '{"amount":7000,', '/sandbox/__sim/clock']) {
            expect(story).to.contain(line);
        }
    });

    it('the demo owner adds a shop and goods, sees the paid order, refunds part then the rest: paid → refunded, refunds succeeded', async () => {
        const password = JSON.parse(Fs.readFileSync(Path.join(dataDir, 'demo-secrets.json'), 'utf8')).merchantOwnerPassword;
        const staffLogin = await curl(base, 'POST', '/merchant/login', { username: 'demo', password });
        expect(staffLogin.status).to.equal(200);
        const staff = { authorization: `Bearer ${staffLogin.body.token}` };
        const shop = await curl(base, 'POST', '/merchant/shops', { name: 'Tea house' }, staff);
        expect(shop.status).to.equal(201);
        const goods = await curl(base, 'POST', '/merchant/goods', { shopId: shop.body.id, name: 'Longjing 250g', price: 5000, stock: 10 }, staff);
        expect(goods.status).to.equal(201);

        const { code } = (await curl(base, 'POST', '/sandbox/__sim/login-codes')).body;
        const { token } = (await curl(base, 'POST', '/users/login', { code })).body;
        const buyer = { authorization: `Bearer ${token}` };
        const order = await curl(base, 'POST', '/orders', { goodsList: [{ goodsId: goods.body.id, count: 2 }] }, buyer);
        expect(order.status).to.equal(201);
        expect(order.body.totalFee).to.equal(10000);
        const pay = (await curl(base, 'POST', `/orders/${order.body.id}/pay`, {}, buyer)).body;
        expect(pay.paySign).to.be.a.string();
        const paid = await curl(base, 'POST', '/sandbox/__sim/pay', { prepayId: pay.package.slice(10), ...pay });
        expect(paid.status, JSON.stringify(paid.body)).to.equal(200);

        const paidOrders = await until(async () => {
            const list = await curl(base, 'GET', '/merchant/orders?status=paid', undefined, staff);
            return list.body.results.some((o: any) => o.id === order.body.id) ? list : undefined;
        }, 'the paid order in the merchant\'s list');
        expect(paidOrders.status).to.equal(200);

        const first = await curl(base, 'POST', `/merchant/orders/${order.body.id}/refunds`, { amount: 3000, reason: 'one tin arrived dented' }, { ...staff, 'idempotency-key': 'demo-refund-1' });
        expect(first.status).to.equal(201);
        const second = await curl(base, 'POST', `/merchant/orders/${order.body.id}/refunds`, { amount: 7000, reason: 'the buyer returned the rest' }, { ...staff, 'idempotency-key': 'demo-refund-2' });
        expect(second.status).to.equal(201);
        expect(second.body.submitted, 'within a minute of the first: queued').to.be.false();

        expect((await curl(base, 'POST', '/sandbox/__sim/clock', { advanceMs: 61_000 })).status).to.equal(200);
        const detail = await until(async () => {
            const seen = await curl(base, 'GET', `/merchant/orders/${order.body.id}`, undefined, staff);
            return seen.body.status === 'refunded' && seen.body.refunds.every((r: any) => r.status === 'succeeded') ? seen.body : undefined;
        }, 'the order refunded');
        expect(detail.refundedFee).to.equal(10000);
        expect(detail.refunds.map((r: any) => [r.amount, r.status])).to.equal([[3000, 'succeeded'], [7000, 'succeeded']]);
        expect(detail.events.map((e: any) => e.to)).to.equal(['unpaid', 'paid', 'refunding', 'refunded']);
        expect((await curl(base, 'GET', `/orders/${order.body.id}`, undefined, buyer)).body).to.include({ status: 'refunded', refundedFee: 10000 });
    });
});
