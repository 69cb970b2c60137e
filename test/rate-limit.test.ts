import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { createShop, json, login, redisAnswers, sim, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const loginFrom = async (app: TestApp, remoteAddress: string, headers: Record<string, string> = {}) => {
    const code = (await sim(app, 'login-codes', {})).body.code;
    return json(app.server, { method: 'POST', url: '/users/login', payload: { code }, remoteAddress, headers });
};

describe('rate limits', () => {

    describe('in memory', () => {

        let app: TestApp;
        before(async () => {
            app = await startApp({ RATE_LIMIT_LOGIN: '3', RATE_LIMIT_ORDERS: '2', TRUSTED_PROXIES: '10.9.9.9' });
        });
        after(() => app.stop());

        it('limits logins per IP with a 429 and Retry-After', async () => {
            for (let i = 0; i < 3; ++i) {
                expect((await loginFrom(app, '192.0.2.1')).statusCode).to.equal(200);
            }

            const limited = await loginFrom(app, '192.0.2.1');
            expect(limited.statusCode).to.equal(429);
            expect(Number(limited.headers['retry-after'])).to.be.within(1, 60);
            expect((await loginFrom(app, '192.0.2.2')).statusCode).to.equal(200);
        });

        it('takes the IP from X-Forwarded-For only behind a trusted proxy', async () => {
            for (let i = 0; i < 3; ++i) {
                expect((await loginFrom(app, '10.9.9.9', { 'x-forwarded-for': `198.51.100.${i + 1}` })).statusCode).to.equal(200);
            }

            // Not a trusted proxy: the header is ignored and the peer address is limited.
            for (let i = 0; i < 3; ++i) {
                expect((await loginFrom(app, '192.0.2.9', { 'x-forwarded-for': `198.51.100.${i + 10}` })).statusCode).to.equal(200);
            }

            expect((await loginFrom(app, '192.0.2.9', { 'x-forwarded-for': '198.51.100.99' })).statusCode).to.equal(429);
        });

        it('limits order creation per user and writes nothing when limited', async () => {
            const { goodsIds: [goodsId] } = await createShop([{ price: 100, stock: 10 }]);
            const alice = await login(app);
            const bob = await login(app);
            const order = (user: typeof alice) => json(app.server, { method: 'POST', url: '/orders', headers: user.auth, payload: { goodsList: [{ goodsId, count: 1 }] } });
            expect((await order(alice)).statusCode).to.equal(201);
            expect((await order(alice)).statusCode).to.equal(201);
            const limited = await order(alice);
            expect(limited.statusCode).to.equal(429);
            expect(limited.headers['retry-after']).to.exist();
            expect((await order(bob)).statusCode).to.equal(201);
            const { Goods } = await import('../models');
            expect((await Goods.findByPk(goodsId))!.stock).to.equal(7);
        });
    });

    // TEST_REDIS_URL given: these tests run (and fail if that Redis is down). Not given: they run against a local
    // Redis when one answers, and are skipped, saying why, when none does.
    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const skipRedis = !process.env.TEST_REDIS_URL && !redisAnswers(redisUrl);
    const redisTitle = skipRedis ? `shared through Redis (skipped: no Redis answers at ${redisUrl}; start one or set TEST_REDIS_URL)` : 'shared through Redis';
    describe(redisTitle, { skip: skipRedis }, () => {

        let first: TestApp;
        let second: TestApp;
        before(async () => {
            // Distinct credentials per app, one Redis: the counters are keyed by IP, so both instances count together.
            first = await startApp({ RATE_LIMIT_LOGIN: '4', REDIS_URL: redisUrl });
            second = await startApp({ RATE_LIMIT_LOGIN: '4', REDIS_URL: redisUrl, DATABASE_URL: first.config.database.url, WECHAT_APPID: first.config.wechat.appId, WECHAT_SECRET: first.config.wechat.secret, WECHATPAY_MCHID: first.config.pay.mchId, WECHATPAY_KEY: first.config.pay.apiKey });
        });
        after(async () => {
            await second.stop();
            await first.stop();
        });

        it('counts logins of one IP across instances', async () => {
            const ip = `203.0.113.${Crypto.randomInt(1, 250)}`;
            expect((await loginFrom(first, ip)).statusCode).to.equal(200);
            expect((await loginFrom(second, ip)).statusCode).to.equal(200);
            expect((await loginFrom(first, ip)).statusCode).to.equal(200);
            expect((await loginFrom(second, ip)).statusCode).to.equal(200);
            expect((await loginFrom(first, ip)).statusCode).to.equal(429);
            expect((await loginFrom(second, ip)).statusCode).to.equal(429);
        });
    });
});
