import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { createEndpoint } from '../lib/webhooks/endpoints';
import { checkUrlSyntax, isForbiddenAddress, resolveCheckedAddress, WebhookUrlError } from '../lib/webhooks/address';
import { postTo } from '../lib/webhooks/post';
import { runWebhookJobs } from '../lib/webhooks/job';
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '../models';
import { ConfigError, loadConfig } from '../config';
import { credentialsEnv, startApp, testEnv, TestApp } from './helpers';
import { merchant, staffLogin, StaffLogin } from './merchant-helpers';
import { paidOrder, Receiver } from './webhook-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const refusedUrls = [
    'http://127.0.0.1/hooks', 'http://127.0.0.1:8080/hooks', 'http://127.1/', 'http://127.255.255.254/', 'http://0x7f000001/',
    'http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f.1/', 'http://localhost/', 'http://LOCALHOST:3000/', 'http://0.0.0.0/', 'http://0/',
    'http://10.0.0.1/', 'http://10.255.255.255/', 'http://172.16.0.1/', 'http://172.31.255.255/', 'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/', 'http://100.64.0.1/', 'http://198.18.0.1/', 'http://192.0.0.8/', 'http://192.0.2.1/',
    'http://224.0.0.1/', 'http://239.255.255.250/', 'http://255.255.255.255/', 'http://240.0.0.1/',
    'http://[::1]/', 'http://[::]/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/',
    'http://[::ffff:10.0.0.1]/', 'http://[::ffff:169.254.169.254]/', 'http://[::127.0.0.1]/', 'http://[fe80::1]/', 'http://[febf::1]/',
    'http://[fc00::1]/', 'http://[fd12:3456:789a::1]/', 'http://[fec0::1]/', 'http://[ff02::1]/', 'http://[64:ff9b::7f00:1]/',
    'http://[64:ff9b::a9fe:a9fe]/', 'http://[2002:7f00:1::1]/', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'http://[2001:db8::1]/'
];

describe('webhook endpoints and server-side request forgery', () => {

    let app: TestApp;
    let owner: StaffLogin;

    before(async () => {
        app = await startApp();      // WEBHOOK_ALLOW_PRIVATE is not set: the default, strict
        owner = await staffLogin(app, 'owner');
    });

    after(async () => {
        await app.stop();
    });

    it('refuses loopback, private, link-local and other special addresses in every spelling at registration', async () => {
        expect(app.config.webhooks.allowPrivate).to.be.false();
        for (const url of refusedUrls) {
            const res = await merchant(app, owner, 'POST', '/merchant/webhooks', { url, eventTypes: ['order.paid'] });
            expect(res.statusCode, url).to.equal(400);
            expect(res.body.message, url).to.match(/loopback, private or otherwise special address/);
        }

        expect(await WebhookEndpoint.count()).to.equal(0);
    });

    it('takes a public address, and refuses to change it to a private one', async () => {
        const created = await merchant(app, owner, 'POST', '/merchant/webhooks', { url: 'https://93.184.215.14/hooks', eventTypes: ['order.paid'] });
        expect(created.statusCode).to.equal(201);
        const changed = await merchant(app, owner, 'PATCH', `/merchant/webhooks/${created.body.id}`, { url: 'http://[::ffff:192.168.0.1]/' });
        expect(changed.statusCode).to.equal(400);
        expect((await WebhookEndpoint.findByPk(created.body.id))!.url).to.equal('https://93.184.215.14/hooks');
        await merchant(app, owner, 'DELETE', `/merchant/webhooks/${created.body.id}`);
    });

    it('checks the address again at each delivery, after DNS, and sends nothing to a forbidden one', async () => {
        const receiver = await new Receiver().start();
        const lenient = { ...app.context, config: { ...app.config, webhooks: { ...app.config.webhooks, allowPrivate: true } } };
        try {
            // registered while private addresses were allowed (the setting changed since, or DNS did)
            const { id } = await registerEndpointVia(lenient, receiver.url.replace('127.0.0.1', 'localhost'));
            await paidOrder(app);
            await runWebhookJobs(app.context, new Date(), () => {});
            expect(receiver.receipts).to.have.length(0);
            const [delivery] = await WebhookDelivery.findAll({ where: { endpointId: id } });
            expect(delivery.status).to.equal('pending');
            const [attempt] = await WebhookAttempt.findAll({ where: { deliveryId: delivery.id } });
            expect(attempt.error).to.match(/^refused: url resolves to (127\.0\.0\.1|::1), a loopback/);

            // allowed again: the same delivery goes to the address localhost resolved to
            await runWebhookJobs(lenient, new Date(delivery.nextAttemptAt!.getTime()), () => {});
            expect(receiver.receipts).to.have.length(1);
            expect(receiver.receipts[0].headers.host).to.equal(new URL(receiver.url.replace('127.0.0.1', 'localhost')).host);
            await merchant(app, owner, 'DELETE', `/merchant/webhooks/${id}`);
        }
        finally {
            await receiver.stop();
        }
    });

    async function registerEndpointVia(context: typeof app.context, url: string) {
        const { endpoint } = await createEndpoint(context.models, context.sequelize, context.config.webhooks, { type: 'staff', id: owner.id }, { url, eventTypes: ['order.paid'] });
        return { id: endpoint.id };
    }

    it('connects to the address it checked, not to what the host name resolves to later', async () => {
        const receiver = await new Receiver().start();
        try {
            const port = new URL(receiver.url).port;
            const url = new URL(`http://does-not-resolve.invalid:${port}/hooks?x=1`);
            const result = await postTo(url, { address: '127.0.0.1', family: 4 }, { 'content-type': 'application/json' }, '{}', 5000);
            expect(result).to.include({ statusCode: 200, snippet: 'ok', error: null });
            expect(receiver.receipts[0].headers.host).to.equal(`does-not-resolve.invalid:${port}`);
        }
        finally {
            await receiver.stop();
        }
    });

    it('keeps the first 512 characters of a long answer, and says why a connection failed', async () => {
        const receiver = await new Receiver().start();
        const closed = new URL(receiver.url);
        try {
            receiver.answer = () => ({ status: 200, body: 'x'.repeat(100_000) });
            const long = await postTo(new URL(receiver.url), { address: '127.0.0.1', family: 4 }, {}, '{}', 5000);
            expect(long).to.include({ statusCode: 200, error: null });
            expect(long.snippet).to.equal('x'.repeat(512));
        }
        finally {
            await receiver.stop();
        }

        const refused = await postTo(closed, { address: '127.0.0.1', family: 4 }, {}, '{}', 5000);
        expect(refused).to.include({ statusCode: null, snippet: null });
        expect(refused.error).to.match(/^ECONNREFUSED/);
    });

    it('classifies addresses: special ranges refused, public ones (also IPv4-mapped) allowed', () => {
        for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.255.255', '169.254.0.1', '100.127.255.255', '0.0.0.0', '::1', '::',
            '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', 'fe80::abcd', 'fd00::1', 'ff05::2', '64:ff9b::8.8.8.8', '2002:c0a8:101::', 'not-an-ip']) {
            expect(isForbiddenAddress(address), address).to.be.true();
        }

        for (const address of ['8.8.8.8', '93.184.215.14', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2400:cb00::1']) {
            expect(isForbiddenAddress(address), address).to.be.false();
        }
    });

    it('refuses a host name when any address it resolves to is forbidden', async () => {
        const rules = { allowPrivate: false, requireHttps: false };
        const lookup = (answers: string[]) => async () => answers.map((address) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }));
        const url = new URL('http://erp.example.com/hooks');
        expect(await resolveCheckedAddress(url, rules, lookup(['93.184.215.14', '2606:2800:220:1::1']))).to.equal({ address: '93.184.215.14', family: 4 });
        await expect(resolveCheckedAddress(url, rules, lookup(['93.184.215.14', '10.0.0.7']))).to.reject(WebhookUrlError, /10\.0\.0\.7/);
        await expect(resolveCheckedAddress(url, rules, lookup([]))).to.reject(WebhookUrlError, /does not resolve/);
        expect(await resolveCheckedAddress(url, { ...rules, allowPrivate: true }, lookup(['10.0.0.7']))).to.equal({ address: '10.0.0.7', family: 4 });
        await expect(resolveCheckedAddress(new URL('http://nothing-here.invalid/'), rules)).to.reject(WebhookUrlError, /does not resolve/);
    });

    it('requires https in production', () => {
        expect(() => checkUrlSyntax('http://erp.example.com/hooks', { allowPrivate: false, requireHttps: true })).to.throw(WebhookUrlError, 'url must be https');
        expect(checkUrlSyntax('https://erp.example.com/hooks', { allowPrivate: false, requireHttps: true }).host).to.equal('erp.example.com');
        expect(checkUrlSyntax('http://erp.example.com/hooks', { allowPrivate: false, requireHttps: false }).protocol).to.equal('http:');

        const production = {
            NODE_ENV: 'production', ...credentialsEnv(), JWT_SECRET: Crypto.randomBytes(32).toString('hex'),
            DATABASE_URL: 'postgres://wxshop@db.internal:5432/wxshop', WECHATPAY_NOTIFY_URL: 'https://shop.example.com/orders/pay/notify',
            DATA_DIR: Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-config-'))
        };
        expect(loadConfig(production).webhooks).to.include({ requireHttps: true, allowPrivate: false });
        expect(() => loadConfig({ ...production, WEBHOOK_ALLOW_PRIVATE: 'true' })).to.throw(ConfigError, /WEBHOOK_ALLOW_PRIVATE=true is refused/);
        expect(() => loadConfig(testEnv({ WEBHOOK_RETRY_FOR_SECONDS: '3600' }))).to.throw(ConfigError, /WEBHOOK_RETRY_FOR_SECONDS/);
        expect(() => loadConfig(testEnv({ WEBHOOK_SECRET_KEY: 'short' }))).to.throw(ConfigError, /WEBHOOK_SECRET_KEY/);
    });
});
