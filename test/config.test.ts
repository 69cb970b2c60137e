import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { Config, ConfigError, loadConfig, wechatApiHost, wechatPayApiHost } from '../config';
import { credentialsEnv, testEnv } from './helpers';

const { expect } = Code;
// hapi-swagger (loaded through app.ts by other scripts) leaves these globals behind when it is required.
const { describe, it } = exports.lab = Lab.script();

type Env = Record<string, string | undefined>;

function tempDir(): string {
    return Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-config-'));
}

/** A complete, valid production environment with random credentials. */
function productionEnv(overrides: Env = {}): Env {
    return {
        NODE_ENV: 'production',
        ...credentialsEnv(),
        JWT_SECRET: Crypto.randomBytes(32).toString('hex'),
        DATABASE_URL: 'postgres://wxshop@db.internal:5432/wxshop',
        WECHATPAY_NOTIFY_URL: 'https://shop.example.com/orders/pay/notify',
        DATA_DIR: tempDir(),
        ...overrides
    };
}

/** The problems loadConfig reports for an environment (fails the test when it accepts it). */
function problemsOf(env: Env): string[] {
    try {
        loadConfig(env);
    }
    catch (err) {
        expect(err).to.be.an.instanceof(ConfigError);
        const problems = (err as ConfigError).problems;
        // The message lists every problem, one per line, so a person sees all of them at once.
        for (const problem of problems) {
            expect((err as Error).message).to.contain(problem);
        }

        return problems;
    }

    throw new Error('loadConfig accepted an invalid environment');
}

function expectOneProblem(env: Env, pattern: RegExp): string {
    const problems = problemsOf(env);
    expect(problems, problems.join('\n')).to.have.length(1);
    expect(problems[0]).to.match(pattern);
    return problems[0];
}

describe('config', () => {

    describe('a valid environment', () => {

        it('gives a typed config with the documented defaults', () => {
            const env = testEnv({ SANDBOX: undefined, PORT: undefined, JOBS: undefined, WECHAT_TIMEOUT_MS: undefined });
            const config = loadConfig(env);
            expect(config.production).to.be.false();
            expect(config.demo).to.be.false();
            expect(config.sandbox).to.be.false();
            expect(config.port).to.equal(3000);
            expect(config.host).to.equal('127.0.0.1');
            expect(config.logLevel).to.equal('silent');
            expect(config.jwt.secret).to.equal(env.JWT_SECRET!);
            expect(config.jwt.issuer).to.equal('wxshop');
            expect(config.jwt.audience).to.equal('wxshop-miniprogram');
            expect(config.jwt.ttlSeconds).to.equal(7200);
            expect(config.wechat).to.equal({ appId: env.WECHAT_APPID!, secret: env.WECHAT_SECRET!, apiBase: wechatApiHost, timeoutMs: 5000 });
            expect(config.pay.mchId).to.equal(env.WECHATPAY_MCHID!);
            expect(config.pay.apiKey).to.equal(env.WECHATPAY_KEY!);
            expect(config.pay.signType).to.equal('MD5');
            expect(config.jobs.enabled).to.be.true();
            expect(config.database.url).to.equal(`sqlite:${Path.join(env.DATA_DIR!, 'wxshop.sqlite')}`);
        });

        it('talks to the real WeChat hosts when the simulator is not mounted', () => {
            const config = loadConfig(productionEnv());
            expect(config.sandbox).to.be.false();
            expect(config.wechat.apiBase).to.equal('https://api.weixin.qq.com');
            expect(config.pay.apiBase).to.equal('https://api.mch.weixin.qq.com');
            expect(wechatPayApiHost).to.equal('https://api.mch.weixin.qq.com');
        });

        it('points the WeChat clients at the mounted simulator with SANDBOX=true, unless a base URL is given', () => {
            const mounted = loadConfig(testEnv());
            expect(mounted.sandbox).to.be.true();
            expect(mounted.wechat.apiBase).to.be.undefined();
            expect(mounted.pay.apiBase).to.be.undefined();

            const external = loadConfig(testEnv({ WECHAT_API_BASE: 'http://127.0.0.1:3100/', WECHATPAY_API_BASE: 'http://127.0.0.1:3100' }));
            expect(external.wechat.apiBase).to.equal('http://127.0.0.1:3100');
            expect(external.pay.apiBase).to.equal('http://127.0.0.1:3100');
        });

        it('accepts a complete production environment and listens on every interface there', () => {
            const env = productionEnv({ WECHATPAY_SIGN_TYPE: 'HMAC-SHA256', PORT: '8080' });
            const config: Config = loadConfig(env);
            expect(config.production).to.be.true();
            expect(config.demo).to.be.false();
            expect(config.sandbox).to.be.false();
            expect(config.host).to.equal('0.0.0.0');
            expect(config.port).to.equal(8080);
            expect(config.logLevel).to.equal('info');
            expect(config.pay.signType).to.equal('HMAC-SHA256');
            expect(config.pay.notifyUrl).to.equal(env.WECHATPAY_NOTIFY_URL!);
            expect(config.database.url).to.equal(env.DATABASE_URL!);
            // Nothing is generated in production.
            expect(Fs.readdirSync(env.DATA_DIR!)).to.equal([]);
        });

        it('accepts every database URL kind', () => {
            for (const url of ['postgres://u@h/db', 'postgresql://u@h/db', 'mysql://root@127.0.0.1:3306/db', 'mariadb://root@h/db', 'sqlite:/tmp/x.sqlite', 'sqlite::memory:']) {
                expect(loadConfig(testEnv({ DATABASE_URL: url })).database.url).to.equal(url);
            }
        });

        it('honours every optional variable', () => {
            const config = loadConfig(testEnv({
                HOST: '0.0.0.0', LOG_LEVEL: 'debug', DATABASE_LOGGING: 'true', JWT_ISSUER: 'shop-a', JWT_AUDIENCE: 'shop-a-app',
                JWT_TTL_SECONDS: '3600', ORDER_TTL: '600', JOBS_INTERVAL_MS: '250', RATE_LIMIT_LOGIN: '5', RATE_LIMIT_ORDERS: '7',
                REDIS_URL: 'redis://127.0.0.1:6379', TRUSTED_PROXIES: ' 10.0.0.1, ,10.0.0.2 ', WECHATPAY_TIMEOUT_MS: '2500'
            }));
            expect(config.host).to.equal('0.0.0.0');
            expect(config.logLevel).to.equal('debug');
            expect(config.database.logging).to.be.true();
            expect(config.jwt).to.include({ issuer: 'shop-a', audience: 'shop-a-app', ttlSeconds: 3600 });
            expect(config.orders.ttlSeconds).to.equal(600);
            expect(config.jobs.intervalMs).to.equal(250);
            expect(config.rateLimit).to.equal({ loginPerMinute: 5, ordersPerMinute: 7, redisUrl: 'redis://127.0.0.1:6379' });
            expect(config.trustedProxies).to.equal(['10.0.0.1', '10.0.0.2']);
            expect(config.pay.timeoutMs).to.equal(2500);
        });

        it('keeps data under the project by default', () => {
            const env = productionEnv({ DATA_DIR: undefined, DATABASE_URL: undefined });
            const problems = problemsOf(env);
            expect(problems).to.have.length(1);
            expect(problems[0]).to.match(/^DATABASE_URL is required/);
            // Outside production the default database is the demo file under data/ (not created by loadConfig).
            const config = loadConfig(testEnv({ DATA_DIR: undefined, DATABASE_URL: undefined }));
            expect(config.dataDir).to.equal(Path.resolve(__dirname, '..', 'data'));
            expect(config.database.url).to.equal(`sqlite:${Path.resolve(__dirname, '..', 'data', 'wxshop.sqlite')}`);
        });

        it('treats an empty variable as not set', () => {
            const dataDir = tempDir();
            const config = loadConfig({
                NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '', JWT_SECRET: '', DATABASE_URL: '', SANDBOX: '',
                WECHAT_APPID: '', WECHAT_SECRET: '', WECHATPAY_MCHID: '', WECHATPAY_KEY: '', WECHAT_API_BASE: ''
            });
            expect(config.demo).to.be.true();
            expect(config.port).to.equal(3000);
            expect(config.wechat.appId).to.match(/^wx[0-9a-f]{16}$/);
            expect(config.wechat.secret).to.have.length(32);
            expect(config.wechat.apiBase).to.be.undefined();
            expect(config.jwt.secret.length).to.be.at.least(32);
            expect(config.database.url).to.equal(`sqlite:${Path.join(dataDir, 'wxshop.sqlite')}`);
        });
    });

    describe('validation messages', () => {

        it('names the missing variables when credentials are partial', () => {
            const problem = expectOneProblem(testEnv({ WECHATPAY_MCHID: undefined, WECHATPAY_KEY: '' }), /all or nothing/);
            expect(problem).to.equal('WECHATPAY_MCHID, WECHATPAY_KEY must be set too: WeChat credentials are all or nothing (got WECHAT_APPID, WECHAT_SECRET)');
        });

        it('rejects a PORT that is not a port number', () => {
            for (const port of ['abc', '-1', '65536', '80.5', '3000x']) {
                expect(expectOneProblem(testEnv({ PORT: port }), /^PORT/)).to.equal(`PORT must be an integer from 0 to 65535 (got "${port}")`);
            }

            expect(loadConfig(testEnv({ PORT: '65535' })).port).to.equal(65535);
        });

        it('rejects other out-of-range integers by name', () => {
            expectOneProblem(testEnv({ WECHAT_TIMEOUT_MS: '50' }), /^WECHAT_TIMEOUT_MS must be an integer from 100 to 60000 \(got "50"\)$/);
            expectOneProblem(testEnv({ JWT_TTL_SECONDS: '10' }), /^JWT_TTL_SECONDS must be an integer from 60/);
            expectOneProblem(testEnv({ ORDER_TTL: 'soon' }), /^ORDER_TTL must be an integer/);
        });

        it('rejects an ORDER_TTL too short for WeChat\'s 5-minute time_expire minimum', () => {
            expectOneProblem(testEnv({ ORDER_TTL: '300' }), /^ORDER_TTL must be an integer from 360 /);
            expect(loadConfig(testEnv({ ORDER_TTL: '360' })).orders.ttlSeconds).to.equal(360);
        });

        it('rejects a short JWT_SECRET', () => {
            expectOneProblem(testEnv({ JWT_SECRET: Crypto.randomBytes(15).toString('hex') }), /^JWT_SECRET must be at least 32 characters long$/);
            expect(loadConfig(testEnv({ JWT_SECRET: 'x'.repeat(32) })).jwt.secret).to.have.length(32);
        });

        it('rejects a production start without credentials, JWT secret, database or notify URL, all at once', () => {
            const problems = problemsOf({ NODE_ENV: 'production', DATA_DIR: tempDir() });
            expect(problems).to.have.length(4);
            expect(problems[0]).to.equal('NODE_ENV=production needs real WeChat credentials: set WECHAT_APPID, WECHAT_SECRET, WECHATPAY_MCHID, WECHATPAY_KEY');
            expect(problems[1]).to.match(/^JWT_SECRET is required with NODE_ENV=production/);
            expect(problems[2]).to.match(/^DATABASE_URL is required with NODE_ENV=production/);
            expect(problems[3]).to.match(/^WECHATPAY_NOTIFY_URL is required with NODE_ENV=production and must be https:\/\//);
        });

        it('rejects each missing production secret on its own', () => {
            expectOneProblem(productionEnv({ JWT_SECRET: undefined }), /^JWT_SECRET is required with NODE_ENV=production \(at least 32 characters\)$/);
            expectOneProblem(productionEnv({ JWT_SECRET: 'too-short' }), /^JWT_SECRET must be at least 32 characters long$/);
            expectOneProblem(productionEnv({ DATABASE_URL: undefined }), /^DATABASE_URL is required with NODE_ENV=production/);
            expectOneProblem(productionEnv({ WECHATPAY_NOTIFY_URL: undefined }), /^WECHATPAY_NOTIFY_URL is required/);
            expectOneProblem(productionEnv({ WECHATPAY_NOTIFY_URL: 'http://shop.example.com/orders/pay/notify' }), /must be https:\/\//);
            expectOneProblem(productionEnv({ WECHAT_SECRET: undefined }), /^WECHAT_SECRET must be set too/);
        });

        it('refuses SANDBOX=true in production', () => {
            expectOneProblem(productionEnv({ SANDBOX: 'true' }), /^SANDBOX=true is not allowed with NODE_ENV=production/);
            expect(loadConfig(productionEnv({ SANDBOX: 'false' })).sandbox).to.be.false();
        });

        it('rejects a DATABASE_URL of an unknown kind without printing its password', () => {
            const problem = expectOneProblem(testEnv({ DATABASE_URL: 'mongodb://admin:hunter2secret@db/wxshop' }), /^DATABASE_URL must start with postgres:\/\/, mysql:\/\/, mariadb:\/\/ or sqlite:/);
            expect(problem).to.not.contain('hunter2secret');
            expect(problem).to.contain('mongodb://***@db/wxshop');
            expectOneProblem(testEnv({ DATABASE_URL: '/var/lib/wxshop.sqlite' }), /^DATABASE_URL must start with/);
        });

        it('rejects an unknown WECHATPAY_SIGN_TYPE', () => {
            expectOneProblem(testEnv({ WECHATPAY_SIGN_TYPE: 'SHA1' }), /^WECHATPAY_SIGN_TYPE must be MD5 or HMAC-SHA256 \(got "SHA1"\)$/);
            expectOneProblem(testEnv({ WECHATPAY_SIGN_TYPE: 'md5' }), /^WECHATPAY_SIGN_TYPE/);
        });

        it('rejects a WECHATPAY_KEY that is not 32 characters', () => {
            expectOneProblem(testEnv({ WECHATPAY_KEY: Crypto.randomBytes(8).toString('hex') }), /^WECHATPAY_KEY must be the 32-character API v2 key/);
        });

        it('rejects a notify URL with a query string and WeChat base URLs that are not http(s)', () => {
            expectOneProblem(testEnv({ WECHATPAY_NOTIFY_URL: 'https://shop.example.com/notify?x=1' }), /^WECHATPAY_NOTIFY_URL must be an http\(s\) URL without a query string$/);
            expectOneProblem(testEnv({ WECHAT_API_BASE: 'ftp://api.example.com' }), /^WECHAT_API_BASE must be an http\(s\) URL/);
            expectOneProblem(testEnv({ WECHATPAY_API_BASE: 'api.mch.weixin.qq.com' }), /^WECHATPAY_API_BASE must be an http\(s\) URL/);
        });

        it('rejects booleans that are neither true nor false', () => {
            expectOneProblem(testEnv({ SANDBOX: 'yes' }), /^SANDBOX must be true or false \(got "yes"\)$/);
            expectOneProblem(testEnv({ JOBS: 'off' }), /^JOBS must be true or false/);
            expect(loadConfig(testEnv({ JOBS: '0', SANDBOX: '1' }))).to.include({ sandbox: true, jobs: { enabled: false, intervalMs: 5000 } });
        });
    });

    describe('demo mode', () => {

        it('generates the secrets once into DATA_DIR and reuses them', () => {
            const dataDir = Path.join(tempDir(), 'nested', 'data');
            const first = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
            expect(first.demo).to.be.true();
            expect(first.sandbox).to.be.true();

            const file = Path.join(dataDir, 'demo-secrets.json');
            const stored = JSON.parse(Fs.readFileSync(file, 'utf8'));
            expect(Fs.statSync(file).mode & 0o777).to.equal(0o600);
            expect(stored.jwtSecret).to.equal(first.jwt.secret);
            expect(first.jwt.secret.length).to.be.at.least(32);
            expect(stored.appId).to.equal(first.wechat.appId);
            expect(stored.appSecret).to.equal(first.wechat.secret);
            expect(stored.mchId).to.equal(first.pay.mchId);
            expect(stored.payKey).to.equal(first.pay.apiKey);
            expect(first.pay.apiKey).to.have.length(32);

            const second = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir });
            expect(second.jwt.secret).to.equal(first.jwt.secret);
            expect(second.wechat).to.equal(first.wechat);
            expect(second.pay).to.equal(first.pay);
            expect(Fs.readFileSync(file, 'utf8')).to.equal(JSON.stringify(stored, null, 2));

            // Another data directory is another installation: other secrets.
            const other = loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir() });
            expect(other.jwt.secret).to.not.equal(first.jwt.secret);
            expect(other.wechat.secret).to.not.equal(first.wechat.secret);
        });

        it('keeps a JWT_SECRET given in the environment over the generated one', () => {
            const secret = Crypto.randomBytes(32).toString('hex');
            const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir(), JWT_SECRET: secret });
            expect(config.demo).to.be.true();
            expect(config.jwt.secret).to.equal(secret);
        });

        it('generates a JWT secret when credentials are given without one outside production', () => {
            const dataDir = tempDir();
            const config = loadConfig(testEnv({ DATA_DIR: dataDir, JWT_SECRET: undefined }));
            expect(config.demo).to.be.false();
            expect(config.jwt.secret).to.equal(JSON.parse(Fs.readFileSync(Path.join(dataDir, 'demo-secrets.json'), 'utf8')).jwtSecret);
        });
    });
});
