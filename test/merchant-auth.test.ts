import * as ChildProcess from 'child_process';
import * as Crypto from 'crypto';
import * as Path from 'path';
import { promisify } from 'util';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import * as Jwt from 'jsonwebtoken';

import { ConfigError, loadConfig } from '../config';
import { hashPassword, verifyPassword } from '../lib/merchant/passwords';
import { createStaff, StaffInputError } from '../lib/merchant/staff';
import { json, openDatabase, startApp, TestApp, testEnv, unpaidOrder } from './helpers';
import { apiKey, merchant, staffLogin, StaffLogin } from './merchant-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('merchant staff and API keys', () => {

    let app: TestApp;
    let owner: StaffLogin;
    let operator: StaffLogin;
    let finance: StaffLogin;
    let shopId: number;
    let goodsId: number;
    let orderId: number;
    let buyer: { auth: { authorization: string } };

    before(async () => {
        app = await startApp({ MERCHANT_LOGIN_FAILURES_PER_USERNAME: '3', MERCHANT_LOGIN_FAILURES_PER_IP: '5' });
        [owner, operator, finance] = [await staffLogin(app, 'owner'), await staffLogin(app, 'operator'), await staffLogin(app, 'finance')];
        const placed = await unpaidOrder(app, { price: 500 });
        buyer = placed.user;
        goodsId = placed.goodsId;
        orderId = placed.order.id;
        shopId = (await app.context.models.Goods.findByPk(goodsId))!.shopId;
    });

    after(() => app.stop());

    /** One route of each merchant family, with a body that succeeds for a role that is admitted. */
    const families = () => [
        { name: 'list shops', method: 'GET', url: '/merchant/shops', roles: ['owner', 'operator', 'finance'], ok: 200 },
        { name: 'create shop', method: 'POST', url: '/merchant/shops', payload: { name: 'New shop' }, roles: ['owner', 'operator'], ok: 201 },
        { name: 'change shop', method: 'PATCH', url: `/merchant/shops/${shopId}`, payload: { description: 'changed' }, roles: ['owner', 'operator'], ok: 200 },
        { name: 'list goods', method: 'GET', url: '/merchant/goods', roles: ['owner', 'operator', 'finance'], ok: 200 },
        { name: 'create goods', method: 'POST', url: '/merchant/goods', payload: { shopId, name: 'Tea', price: 100, stock: 1 }, roles: ['owner', 'operator'], ok: 201 },
        { name: 'change goods', method: 'PATCH', url: `/merchant/goods/${goodsId}`, payload: { sortOrder: 1 }, roles: ['owner', 'operator'], ok: 200 },
        { name: 'list orders', method: 'GET', url: '/merchant/orders', roles: ['owner', 'operator', 'finance'], ok: 200 },
        { name: 'one order', method: 'GET', url: `/merchant/orders/${orderId}`, roles: ['owner', 'operator', 'finance'], ok: 200 },
        { name: 'create key', method: 'POST', url: '/merchant/api-keys', payload: { name: 'k', scopes: ['merchant:read'] }, roles: ['owner'], ok: 201 },
        { name: 'list keys', method: 'GET', url: '/merchant/api-keys', roles: ['owner'], ok: 200 },
        { name: 'revoke key', method: 'DELETE', url: '/merchant/api-keys/2147483647', roles: ['owner'], ok: 404 }
    ];

    it('logs staff in with a token for the merchant audience, never the buyers\'', async () => {
        const res = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: owner.username.toUpperCase(), password: owner.password } });
        expect(res.statusCode).to.equal(200);
        expect(res.body.user).to.equal({ id: owner.id, username: owner.username, role: 'owner' });
        expect(res.body.expiresIn).to.equal(3600);
        const claims = Jwt.decode(res.body.token) as Jwt.JwtPayload;
        expect(claims.aud).to.equal('wxshop-merchant');
        expect(claims.aud).to.not.equal(app.config.jwt.audience);
        expect(claims.sub).to.equal(String(owner.id));
    });

    it('gives one answer for an unknown username and a wrong password, and refuses disabled staff', async () => {
        const wrong = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: finance.username, password: 'not the password' }, remoteAddress: '198.51.100.1' });
        const unknown = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: 'nobody-here', password: 'whatever it is' }, remoteAddress: '198.51.100.1' });
        expect(wrong.statusCode).to.equal(401);
        expect(unknown.statusCode).to.equal(401);
        expect(unknown.body.message).to.equal(wrong.body.message);

        const { models } = app.context;
        const disabled = await staffLogin(app, 'operator');
        await models.Staff.update({ disabled: true }, { where: { id: disabled.id } });
        expect((await merchant(app, disabled, 'GET', '/merchant/shops')).statusCode).to.equal(401);
        const again = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: disabled.username, password: disabled.password }, remoteAddress: '198.51.100.2' });
        expect(again.statusCode).to.equal(401);
        expect(again.body.message).to.equal(wrong.body.message);
    });

    it('stores passwords as salted scrypt with their parameters, and never the password', async () => {
        const [row] = await app.context.models.Staff.findAll({ where: { id: owner.id } });
        expect(row.passwordHash).to.match(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
        expect(row.passwordHash).to.not.contain(owner.password);
        const one = await hashPassword('correct horse');
        expect(one).to.not.equal(await hashPassword('correct horse'));       // a fresh salt each time
        expect(await verifyPassword('correct horse', one)).to.be.true();
        expect(await verifyPassword('correct horsf', one)).to.be.false();
        expect(await verifyPassword('correct horse', 'md5$abc')).to.be.false();
    });

    it('admits each role only where the route says, and shows the rule in Swagger', async () => {
        const staff = { owner, operator, finance };
        for (const route of families()) {
            for (const [role, who] of Object.entries(staff)) {
                const res = await merchant(app, who, route.method, route.url, route.payload);
                const expected = route.roles.includes(role) ? route.ok : 403;
                expect(res.statusCode, `${role} on ${route.name}`).to.equal(expected);
            }
        }

        const doc = (await json(app.server, { method: 'GET', url: '/swagger.json' })).body;
        expect(doc.paths['/merchant/api-keys'].post.description).to.contain('Roles: owner.');
        expect(doc.paths['/merchant/goods/{goodsId}'].patch.description).to.contain('Roles: owner, operator. API key scopes: goods:write.');
        expect(doc.paths['/merchant/orders'].get.description).to.contain('Roles: owner, operator, finance.');
    });

    it('refuses a buyer token on every merchant route, and staff tokens and API keys on every buyer route', async () => {
        const key = await apiKey(app, owner, ['merchant:read', 'orders:read', 'goods:write']);
        for (const route of families()) {
            const res = await merchant(app, buyer, route.method, route.url, route.payload);
            expect(res.statusCode, `buyer token on ${route.name}`).to.equal(401);
            expect((await merchant(app, undefined, route.method, route.url, route.payload)).statusCode, `no token on ${route.name}`).to.equal(401);
        }

        const buyerRoutes = [
            { method: 'GET', url: '/orders' },
            { method: 'POST', url: '/orders', payload: { goodsList: [{ goodsId, count: 1 }] } },
            { method: 'GET', url: `/orders/${orderId}` },
            { method: 'POST', url: `/orders/${orderId}/pay`, payload: {} },
            { method: 'POST', url: `/orders/${orderId}/cancel` }
        ];
        for (const route of buyerRoutes) {
            for (const [name, who] of [['staff token', owner], ['API key', key]] as const) {
                const res = await merchant(app, who, route.method, route.url, route.payload);
                expect(res.statusCode, `${name} on ${route.method} ${route.url}`).to.equal(401);
            }
        }

        // A token signed with the right key but the buyers' audience and a staff id is still a buyer token.
        const forged = Jwt.sign({}, app.config.jwt.secret, { algorithm: 'HS256', issuer: app.config.jwt.issuer, audience: app.config.jwt.audience, subject: String(owner.id), expiresIn: 60 });
        expect((await merchant(app, { auth: { authorization: `Bearer ${forged}` } }, 'GET', '/merchant/shops')).statusCode).to.equal(401);
        const unsigned = Jwt.sign({}, 'another secret of at least 32 characters!!', { algorithm: 'HS256', issuer: app.config.jwt.issuer, audience: 'wxshop-merchant', subject: String(owner.id), expiresIn: 60 });
        expect((await merchant(app, { auth: { authorization: `Bearer ${unsigned}` } }, 'GET', '/merchant/shops')).statusCode).to.equal(401);
    });

    it('shows a new key once, stores only its keyed hash, and lets it act within its scopes only', async () => {
        const created = await merchant(app, owner, 'POST', '/merchant/api-keys', { name: 'ERP', scopes: ['merchant:read'] });
        expect(created.statusCode).to.equal(201);
        expect(created.body.key).to.match(/^wxk_[A-Za-z0-9_-]{43}$/);
        expect(created.body).to.include({ name: 'ERP', scopes: ['merchant:read'], lastUsedAt: null, revokedAt: null, prefix: created.body.key.slice(0, 12) });

        const listed = await merchant(app, owner, 'GET', '/merchant/api-keys');
        expect(JSON.stringify(listed.body)).to.not.contain(created.body.key);
        expect(listed.body.find((row: any) => row.id === created.body.id)).to.include({ name: 'ERP' });

        const db = openDatabase(app);
        try {
            const [row] = await db.query(`SELECT * FROM api_keys WHERE id = ${Number(created.body.id)}`, { type: 'SELECT' as any }) as any[];
            expect(JSON.stringify(row)).to.not.contain(created.body.key.slice(12));
            expect(row.key_hash).to.equal(Crypto.createHmac('sha256', app.config.merchant.apiKeySecret).update(created.body.key).digest('hex'));
        }
        finally {
            await db.close();
        }

        const reader = { auth: { authorization: `Bearer ${created.body.key}` } };
        expect((await merchant(app, reader, 'GET', '/merchant/shops')).statusCode).to.equal(200);
        expect((await merchant(app, reader, 'GET', '/merchant/goods')).statusCode).to.equal(200);
        expect((await merchant(app, reader, 'GET', '/merchant/orders')).statusCode).to.equal(403);
        expect((await merchant(app, reader, 'PATCH', `/merchant/goods/${goodsId}`, { sortOrder: 2 })).statusCode).to.equal(403);
        expect((await merchant(app, reader, 'POST', '/merchant/api-keys', { name: 'x', scopes: ['merchant:read'] })).statusCode).to.equal(403);

        const writer = await apiKey(app, owner, ['goods:write']);
        expect((await merchant(app, writer, 'PATCH', `/merchant/goods/${goodsId}`, { sortOrder: 3 })).statusCode).to.equal(200);
        expect((await merchant(app, writer, 'GET', '/merchant/goods')).statusCode).to.equal(403);
        const orders = await apiKey(app, owner, ['orders:read']);
        expect((await merchant(app, orders, 'GET', `/merchant/orders/${orderId}`)).statusCode).to.equal(200);
        expect((await merchant(app, orders, 'GET', '/merchant/api-keys')).statusCode).to.equal(403);

        // A key's action is audited as the key's.
        const action = await app.context.models.MerchantAction.findOne({ where: { actorType: 'api_key', actorId: writer.id, action: 'goods.update' } });
        expect(JSON.parse(action!.details).after).to.equal({ sortOrder: 3 });

        expect((await merchant(app, owner, 'POST', '/merchant/api-keys', { name: 'x', scopes: ['everything'] })).statusCode).to.equal(400);
        expect((await merchant(app, owner, 'POST', '/merchant/api-keys', { name: 'x', scopes: [] })).statusCode).to.equal(400);
        expect((await merchant(app, { auth: { authorization: 'Bearer wxk_not-a-key' } }, 'GET', '/merchant/shops')).statusCode).to.equal(401);
    });

    it('refuses a revoked key at once, and audits the revocation', async () => {
        const key = await apiKey(app, owner, ['merchant:read']);
        expect((await merchant(app, key, 'GET', '/merchant/shops')).statusCode).to.equal(200);
        const revoked = await merchant(app, owner, 'DELETE', `/merchant/api-keys/${key.id}`);
        expect(revoked.statusCode).to.equal(200);
        expect(revoked.body.revokedAt).to.be.a.string();
        expect((await merchant(app, key, 'GET', '/merchant/shops')).statusCode).to.equal(401);

        const again = await merchant(app, owner, 'DELETE', `/merchant/api-keys/${key.id}`);
        expect(again.body.revokedAt).to.equal(revoked.body.revokedAt);
        const { MerchantAction } = app.context.models;
        expect(await MerchantAction.count({ where: { action: 'api_key.revoke', targetId: key.id, actorType: 'staff', actorId: owner.id } })).to.equal(1);
    });

    it('keeps a key\'s last use to the minute, without a write per request', async () => {
        const key = await apiKey(app, owner, ['merchant:read']);
        const { ApiKey } = app.context.models;
        expect((await ApiKey.findByPk(key.id))!.lastUsedAt).to.be.null();

        await merchant(app, key, 'GET', '/merchant/shops');
        const first = (await ApiKey.findByPk(key.id))!.lastUsedAt!;
        expect(first).to.be.a.date();
        await merchant(app, key, 'GET', '/merchant/shops');
        await merchant(app, key, 'GET', '/merchant/goods');
        expect((await ApiKey.findByPk(key.id))!.lastUsedAt!.getTime()).to.equal(first.getTime());

        const longAgo = new Date(Date.now() - 5 * 60_000);
        await ApiKey.update({ lastUsedAt: longAgo }, { where: { id: key.id } });
        await merchant(app, key, 'GET', '/merchant/shops');
        expect((await ApiKey.findByPk(key.id))!.lastUsedAt!.getTime()).to.be.above(longAgo.getTime() + 4 * 60_000);
        const listed = (await merchant(app, owner, 'GET', '/merchant/api-keys')).body.find((row: any) => row.id === key.id);
        expect(listed.lastUsedAt).to.be.a.string();
    });

    it('limits failed logins per username, the right password included, with Retry-After', async () => {
        const victim = await staffLogin(app, 'finance');
        const attempt = (password: string, ip: string) => json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: victim.username, password }, remoteAddress: ip });
        for (let i = 0; i < 3; ++i) {
            expect((await attempt('guess number ' + i, `192.0.2.${10 + i}`)).statusCode).to.equal(401);
        }

        const limited = await attempt(victim.password, '192.0.2.50');
        expect(limited.statusCode).to.equal(429);
        expect(Number(limited.headers['retry-after'])).to.be.within(1, 900);
        // Other accounts are untouched.
        const other = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: operator.username, password: operator.password }, remoteAddress: '192.0.2.51' });
        expect(other.statusCode).to.equal(200);
    });

    it('limits failed logins per IP across usernames', async () => {
        const ip = `203.0.113.${Crypto.randomInt(1, 250)}`;
        for (let i = 0; i < 5; ++i) {
            const res = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: `ghost-${i}-${Crypto.randomBytes(3).toString('hex')}`, password: 'nope nope nope' }, remoteAddress: ip });
            expect(res.statusCode).to.equal(401);
        }

        const limited = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: owner.username, password: owner.password }, remoteAddress: ip });
        expect(limited.statusCode).to.equal(429);
        expect(limited.headers['retry-after']).to.exist();
        const elsewhere = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: owner.username, password: owner.password }, remoteAddress: '198.51.100.77' });
        expect(elsewhere.statusCode).to.equal(200);
    });

    it('logs a refused login with the username and IP, never the password', async () => {
        const seen: string[] = [];
        const listener = (_request: unknown, event: { tags: string[]; data?: unknown }) => {
            seen.push(`${event.tags.join(',')} ${JSON.stringify(event.data)}`);
        };
        app.server.events.on({ name: 'request', channels: 'app' }, listener);
        try {
            const password = `secret-${Crypto.randomBytes(6).toString('hex')}`;
            await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: operator.username, password }, remoteAddress: '198.51.100.123' });
            const line = seen.find((entry) => entry.includes('merchant login'));
            expect(line).to.contain(operator.username);
            expect(line).to.contain('198.51.100.123');
            expect(seen.join('\n')).to.not.contain(password);
        }
        finally {
            app.server.events.removeListener('request', listener);
        }
    });

    it('refuses bad login bodies with a 400', async () => {
        for (const payload of [{}, { username: 'a' }, { username: 'a', password: 'b', role: 'owner' }, { username: 1, password: 2 }]) {
            expect((await json(app.server, { method: 'POST', url: '/merchant/login', payload })).statusCode).to.equal(400);
        }
    });

    it('refuses a merchant audience equal to the buyers\', and a short API key secret', () => {
        expect(() => loadConfig(testEnv({ MERCHANT_JWT_AUDIENCE: 'wxshop-miniprogram' }))).to.throw(ConfigError, /MERCHANT_JWT_AUDIENCE/);
        expect(() => loadConfig(testEnv({ MERCHANT_API_KEY_SECRET: 'short' }))).to.throw(ConfigError, /MERCHANT_API_KEY_SECRET/);
        expect(loadConfig(testEnv({ MERCHANT_API_KEY_SECRET: 'k'.repeat(32) })).merchant.apiKeySecret).to.equal('k'.repeat(32));
    });

    it('refuses staff accounts with a bad username, a short password or a taken name', async () => {
        const { models } = app.context;
        await expect(createStaff(models, { username: 'a b', password: 'long enough password', role: 'operator' })).to.reject(StaffInputError, /username/);
        await expect(createStaff(models, { username: 'shorty', password: 'short', role: 'operator' })).to.reject(StaffInputError, /password/);
        await expect(createStaff(models, { username: owner.username.toUpperCase(), password: 'long enough password', role: 'operator' })).to.reject(StaffInputError, /already exists/);
    });

    it('creates the first owner with npm run merchant -- create-owner', async () => {
        const username = `boss-${Crypto.randomBytes(3).toString('hex')}`;
        const password = Crypto.randomBytes(12).toString('base64url');
        const script = Path.join(__dirname, '..', 'scripts', 'merchant.ts');
        const env = { ...process.env, ...testEnv({ DATABASE_URL: app.config.database.url, MERCHANT_PASSWORD: password }) } as NodeJS.ProcessEnv;
        const { stdout } = await promisify(ChildProcess.execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', script, 'create-owner', '--username', username], { env, timeout: 60_000 });
        expect(stdout).to.contain(`created owner "${username}"`);
        expect(stdout).to.not.contain(password);
        const res = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username, password }, remoteAddress: '198.51.100.99' });
        expect(res.statusCode).to.equal(200);
        expect(res.body.user.role).to.equal('owner');

        const twice = await promisify(ChildProcess.execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', script, 'create-owner', '--username', username], { env, timeout: 60_000 }).catch((err) => err);
        expect(twice.code).to.equal(1);
        expect(twice.stderr).to.contain('already exists');
    });
});

describe('merchant login failures shared through Redis', () => {

    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    let first: TestApp;
    let second: TestApp;
    before(async () => {
        first = await startApp({ REDIS_URL: redisUrl, MERCHANT_LOGIN_FAILURES_PER_USERNAME: '2' });
        second = await startApp({ REDIS_URL: redisUrl, MERCHANT_LOGIN_FAILURES_PER_USERNAME: '2', DATABASE_URL: first.config.database.url, JWT_SECRET: first.config.jwt.secret, WECHAT_APPID: first.config.wechat.appId, WECHAT_SECRET: first.config.wechat.secret, WECHATPAY_MCHID: first.config.pay.mchId, WECHATPAY_KEY: first.config.pay.apiKey });
    });
    after(async () => {
        await second.stop();
        await first.stop();
    });

    it('counts one username\'s failures across instances', async () => {
        const victim = await staffLogin(first, 'owner');
        const attempt = (app: TestApp, password: string) => json(app.server, { method: 'POST', url: '/merchant/login', payload: { username: victim.username, password }, remoteAddress: `192.0.2.${Crypto.randomInt(1, 250)}` });
        expect((await attempt(first, 'wrong password 1')).statusCode).to.equal(401);
        expect((await attempt(second, 'wrong password 2')).statusCode).to.equal(401);
        expect((await attempt(first, victim.password)).statusCode).to.equal(429);
        expect((await attempt(second, victim.password)).statusCode).to.equal(429);
    });
});

