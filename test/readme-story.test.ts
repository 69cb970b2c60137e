import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';

import { buildApp } from '../app';
import { loadConfig } from '../config';
import { curl } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script({ cli: { globals: ['CSS', '__core-js_shared__', 'Symbol(react-redux-context)'] } as Lab.script.Cli });

const readme = Fs.readFileSync(Path.join(__dirname, '..', 'README.md'), 'utf8');

describe("the README's curl story", () => {

    let server: Hapi.Server;
    let base: string;

    before(async () => {
        ({ server } = await buildApp(loadConfig({ NODE_ENV: 'test', DATA_DIR: Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-story-')), PORT: '0', JOBS: 'false' })));
        await server.start();
        base = server.info.uri;
    });

    after(() => server.stop());

    it('ends with the order asked with sync=true', () => {
        const story = readme.slice(readme.indexOf('### The demo with curl'), readme.indexOf('### In the mini-program'));
        expect(story).to.contain('curl -s "$B/orders/$ORDER?sync=true" -H "Authorization: Bearer $TOKEN"');
    });

    it('answers "paid" right after the phone pays, even when the notification never comes', async () => {
        for (let run = 0; run < 5; ++run) {
            // The notification is dropped: only sync=true can know of the payment.
            expect((await curl(base, 'POST', '/sandbox/__sim/notify-faults', { mode: 'drop' })).status).to.equal(204);
            const { code } = (await curl(base, 'POST', '/sandbox/__sim/login-codes')).body;
            const { token } = (await curl(base, 'POST', '/users/login', { code })).body;
            const order = await curl(base, 'POST', '/orders', { goodsList: [{ goodsId: 1, count: 2 }] }, token);
            expect(order.status).to.equal(201);
            const pay = (await curl(base, 'POST', `/orders/${order.body.id}/pay`, {}, token)).body;
            const paid = await curl(base, 'POST', '/sandbox/__sim/pay', { prepayId: pay.package.slice(10), ...pay });
            expect(paid.status, JSON.stringify(paid.body)).to.equal(200);

            const plain = await curl(base, 'GET', `/orders/${order.body.id}`, undefined, token);
            expect(plain.body.status, 'without sync the notification is awaited (and it was dropped)').to.equal('unpaid');
            const synced = await curl(base, 'GET', `/orders/${order.body.id}?sync=true`, undefined, token);
            expect(synced.status).to.equal(200);
            expect(synced.body.status).to.equal('paid');
            expect(synced.body.transactionId).to.equal(paid.body.transactionId);
        }
    });
});
