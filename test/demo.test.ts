import * as ChildProcess from 'child_process';
import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';

import { createServer } from '../app';
import { Config, loadConfig } from '../config';
import { startSandboxServer } from '../sandbox/server';
import { eventually, testEnv } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const root = Path.join(__dirname, '..');

/** The environment of a fresh clone: no credentials, no database URL, no secrets; only where data/ is. */
function demoEnv(dataDir: string): Record<string, string> {
    return { NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', JOBS: 'false' };
}

interface Answer {
    status: number;
    body: any;
}

/** What curl does: a real HTTP request to a real port. */
async function curl(base: string, method: string, path: string, body?: object, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json', ...headers } : headers,
        body: body ? JSON.stringify(body) : undefined
    });
    const text = await response.text();
    let parsed: any = text;
    try {
        parsed = JSON.parse(text);
    }
    catch { }

    return { status: response.status, body: parsed };
}

/** The "Done when" story of issue 2, with curl alone. */
async function curlStory(base: string): Promise<{ token: string; userId: number; openid: string; code: string }> {
    const minted = await curl(base, 'POST', '/sandbox/__sim/login-codes');
    expect(minted.status).to.equal(200);
    expect(minted.body.code).to.be.a.string();

    const login = await curl(base, 'POST', '/users/login', { code: minted.body.code });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    expect(login.body.token).to.be.a.string();
    const auth = { authorization: `Bearer ${login.body.token}` };

    const shops = await curl(base, 'GET', '/shops', undefined, auth);
    expect(shops.status).to.equal(200);
    expect(shops.body.totalCount).to.equal(3);
    expect(shops.body.results.map((shop: any) => shop.id)).to.equal([1, 2, 3]);
    expect(shops.body.results[0].name).to.equal('山间咖啡 Mountain Coffee');

    const goods = await curl(base, 'GET', '/shops/1/goods', undefined, auth);
    expect(goods.status).to.equal(200);
    expect(goods.body.totalCount).to.equal(4);
    expect(goods.body.results[0]).to.include({ shopId: 1, name: '云南小粒咖啡豆 250g', price: 6800, stock: 120 });
    for (const item of goods.body.results) {
        expect(Number.isInteger(item.price) && item.price > 0).to.be.true();
        expect(item.thumbUrl as string).to.startWith('https://');
    }

    const again = await curl(base, 'POST', '/users/login', { code: minted.body.code });
    expect(again.status).to.equal(401);
    expect(again.body.error).to.equal('Unauthorized');

    return { token: login.body.token, userId: login.body.user.id, openid: minted.body.openid, code: minted.body.code };
}

describe('demo mode', () => {

    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-demo-'));
    let config: Config;
    let server: Hapi.Server;
    let first: { token: string; userId: number; openid: string };

    before(async () => {
        config = loadConfig(demoEnv(dataDir));
        server = await createServer(config);
        await server.start();
    });

    after(() => server.stop());

    it('runs on SQLite under DATA_DIR, with the simulator mounted and generated credentials', () => {
        expect(config.demo).to.be.true();
        expect(config.sandbox).to.be.true();
        expect(config.database.url).to.equal(`sqlite:${Path.join(dataDir, 'wxshop.sqlite')}`);
        expect(Fs.existsSync(Path.join(dataDir, 'wxshop.sqlite'))).to.be.true();
        expect(Fs.existsSync(Path.join(dataDir, 'demo-secrets.json'))).to.be.true();
        expect(server.table().some((route) => route.path === '/sandbox/sns/jscode2session')).to.be.true();
    });

    it('has applied the migrations and seeded the demo shops', async () => {
        const shops = await curl(server.info.uri, 'GET', '/shops');
        expect(shops.body.totalCount).to.equal(3);
        expect(shops.body.results.map((shop: any) => shop.name)).to.equal(['山间咖啡 Mountain Coffee', '江南茶舍 Jiangnan Tea House', '小满烘焙 Xiaoman Bakery']);
        for (const shopId of [1, 2, 3]) {
            expect((await curl(server.info.uri, 'GET', `/shops/${shopId}/goods`)).body.totalCount).to.equal(4);
        }
    });

    it('passes the curl story: login code, login, shops, goods with the token, the same code again is a 401', async () => {
        first = await curlStory(server.info.uri);
    });

    it('serves Swagger', async () => {
        const docs = await fetch(`${server.info.uri}/documentation`);
        expect(docs.status).to.equal(200);
    });

    it('keeps secrets, users and catalogue across a restart on the same DATA_DIR', async () => {
        await server.stop();
        const again = loadConfig(demoEnv(dataDir));
        expect(again.jwt.secret).to.equal(config.jwt.secret);
        expect(again.wechat).to.equal(config.wechat);

        server = await createServer(again);
        server.route({ method: 'GET', path: '/__test/me', options: { auth: 'jwt' }, handler: (request) => request.auth.credentials });
        await server.start();

        // The token issued before the restart is still good.
        const me = await curl(server.info.uri, 'GET', '/__test/me', undefined, { authorization: `Bearer ${first.token}` });
        expect(me.status).to.equal(200);
        expect(me.body).to.equal({ userId: first.userId, openid: first.openid });

        // Not seeded twice.
        expect((await curl(server.info.uri, 'GET', '/shops')).body.totalCount).to.equal(3);

        // The same WeChat user logs in as the same user.
        const minted = await curl(server.info.uri, 'POST', '/sandbox/__sim/login-codes', { openid: first.openid });
        const login = await curl(server.info.uri, 'POST', '/users/login', { code: minted.body.code });
        expect(login.body.user.id).to.equal(first.userId);
    });
});

describe('npm start on a fresh clone', () => {

    it('starts the demo, tells where Swagger and the sandbox are, serves the curl story, logs without secrets, and stops on SIGTERM', { timeout: 180_000 }, async () => {
        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-start-'));
        const env: Record<string, string | undefined> = { ...process.env, ...demoEnv(dataDir), JOBS: undefined, LOG_LEVEL: 'info' };
        for (const name of ['DATABASE_URL', 'JWT_SECRET', 'SANDBOX', 'WECHAT_APPID', 'WECHAT_SECRET', 'WECHATPAY_MCHID', 'WECHATPAY_KEY', 'WECHAT_API_BASE', 'WECHATPAY_API_BASE']) {
            delete env[name];
        }

        // What "npm start" runs (package.json), without npm in between so the signal reaches the server.
        const child = ChildProcess.spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'app.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

        try {
            const base = await new Promise<string>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`no "listening" line in 120 s:\n${stdout}\n${stderr}`)), 120_000);
                const check = () => {
                    const match = /listening on (http:\/\/[^\s"]+)/.exec(stdout);
                    if (match && stdout.includes('demo mode')) {
                        clearTimeout(timer);
                        resolve(match[1]);
                    }
                };
                child.stdout.on('data', check);
                child.once('exit', () => reject(new Error(`exited early:\n${stdout}\n${stderr}`)));
            });

            expect(stdout).to.contain(`Swagger:  ${base}/documentation`);
            expect(stdout).to.contain(`WeChat simulator: ${base}/sandbox`);
            expect(stdout).to.contain(dataDir);
            // The generated secrets are written to data/, never printed, except the demo staff passwords (demo only).
            const { merchantOwnerPassword, merchantOperatorPassword, ...secrets } = JSON.parse(Fs.readFileSync(Path.join(dataDir, 'demo-secrets.json'), 'utf8'));
            for (const value of Object.values(secrets) as string[]) {
                expect(stdout + stderr).to.not.contain(value);
            }

            expect(stdout).to.contain(`merchant login (owner): demo / ${merchantOwnerPassword}`);
            expect(stdout).to.contain(`merchant login (operator): demo-operator / ${merchantOperatorPassword}`);
            const staffLogin = await curl(base, 'POST', '/merchant/login', { username: 'demo', password: merchantOwnerPassword });
            expect(staffLogin.body.user).to.include({ username: 'demo', role: 'owner' });

            const story = await curlStory(base);

            // hapi-pino: one JSON line per request, with its request id; no login code or token anywhere. The child's
            // stdout can trail its answers on a loaded machine: wait for the two login lines rather than a fixed time.
            const loginLines = () => stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
                .filter((line) => /post \/users\/login (200|401)/.test(line.msg ?? ''));
            await eventually(() => loginLines().length >= 2, 'the two login log lines');
            const logins = loginLines();
            expect(logins).to.have.length(2);
            for (const line of logins) {
                expect(line.reqId).to.be.a.string();
            }

            expect(new Set(logins.map((line) => line.reqId)).size).to.equal(2);
            expect(stdout + stderr).to.not.contain(story.code);
            expect(stdout + stderr).to.not.contain(story.token);
            expect(stdout + stderr).to.not.contain(story.token.split('.')[2]);
        }
        finally {
            child.kill('SIGTERM');
        }

        expect(await exited).to.equal(0);
        expect(stdout).to.contain('SIGTERM: draining in-flight requests');
    });

    it('refuses to start in production without secrets, saying what is missing', { timeout: 180_000 }, () => {
        const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'production', DATA_DIR: Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-prod-')) };
        for (const name of ['DATABASE_URL', 'JWT_SECRET', 'SANDBOX', 'WECHAT_APPID', 'WECHAT_SECRET', 'WECHATPAY_MCHID', 'WECHATPAY_KEY', 'WECHATPAY_NOTIFY_URL']) {
            delete env[name];
        }

        const run = ChildProcess.spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'app.ts'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
        expect(run.status).to.equal(1);
        expect(run.stderr).to.contain('Invalid configuration');
        expect(run.stderr).to.contain('JWT_SECRET is required with NODE_ENV=production');
        expect(run.stderr).to.contain('DATABASE_URL is required with NODE_ENV=production');
        expect(run.stdout).to.not.contain('listening');
    });
});

describe('when the database is away', () => {

    for (const kind of ['postgres', 'mysql']) {
        it(`answers 503 with Retry-After on ${kind}, and /health stays alive`, async () => {
            // Credentials given and the simulator not mounted: nothing touches the database at start.
            const config = loadConfig(testEnv({ SANDBOX: 'false', WECHAT_API_BASE: 'http://127.0.0.1:9', DATABASE_URL: `${kind}://wxshop@127.0.0.1:9/wxshop_${Crypto.randomBytes(3).toString('hex')}` }));
            const server = await createServer(config);
            await server.start();
            try {
                const ready = await server.inject('/ready');
                expect(ready.statusCode).to.equal(503);
                expect(JSON.parse(ready.payload)).to.equal({ statusCode: 503, error: 'Service Unavailable', message: 'The database is unreachable' });

                for (const url of ['/shops', '/shops/1/goods']) {
                    const res = await server.inject(url);
                    expect(res.statusCode, url).to.equal(503);
                    expect(res.headers['retry-after'], url).to.equal('5');
                    expect(JSON.parse(res.payload).message).to.equal('The database is unavailable, try again shortly');
                }

                expect((await server.inject('/health')).statusCode).to.equal(200);
                // With credentials and without SANDBOX=true the simulator is not mounted.
                expect(server.table().filter((route) => route.path.startsWith('/sandbox'))).to.equal([]);
                expect((await server.inject({ method: 'POST', url: '/sandbox/__sim/login-codes' })).statusCode).to.equal(404);
            }
            finally {
                await server.stop();
            }
        });
    }

    it('answers a login that WeChat accepted with 503 too, not a 500', async () => {
        const env = testEnv({ SANDBOX: 'false', DATABASE_URL: 'postgres://wxshop@127.0.0.1:9/wxshop', RATE_LIMIT_LOGIN: '1000' });
        const wechat = await startSandboxServer({ appId: env.WECHAT_APPID!, appSecret: env.WECHAT_SECRET!, mchId: env.WECHATPAY_MCHID!, apiKey: env.WECHATPAY_KEY! });
        const server = await createServer(loadConfig({ ...env, WECHAT_API_BASE: wechat.server.info.uri }));
        await server.start();
        try {
            const minted = JSON.parse((await wechat.server.inject({ method: 'POST', url: '/__sim/login-codes' })).payload);
            const res = await server.inject({ method: 'POST', url: '/users/login', payload: { code: minted.code } });
            expect(res.statusCode).to.equal(503);
            expect(res.headers['retry-after']).to.equal('5');
            expect(JSON.parse(res.payload).message).to.equal('The database is unavailable, try again shortly');
        }
        finally {
            await server.stop();
            await wechat.server.stop();
        }
    });
});
