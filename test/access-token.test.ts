import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { buildApp } from '../app';
import { loadConfig } from '../config';
import type { AppContext } from '../lib/context';
import { AccessTokens, WechatApiError } from '../lib/wechat/access-token';
import { WechatAccessToken } from '../models';
import type * as Hapi from '@hapi/hapi';
import { json, startApp, testEnv, TestApp } from './helpers';
import { ops } from './shipping-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('access tokens: stable_token shared by every instance', () => {

    let first: TestApp;
    const others: Array<{ server: Hapi.Server; context: AppContext }> = [];
    before(async () => {
        first = await startApp();
        // Two more instances on the same database and the same (first instance's) simulator.
        for (let i = 0; i < 2; ++i) {
            const config = loadConfig(testEnv({
                DATABASE_URL: first.config.database.url,
                WECHAT_API_BASE: `${first.base}/sandbox`,
                WECHAT_APPID: first.config.wechat.appId,
                WECHAT_SECRET: first.config.wechat.secret,
                WECHATPAY_MCHID: first.config.pay.mchId,
                WECHATPAY_KEY: first.config.pay.apiKey
            }));
            const built = await buildApp(config);
            await built.server.start();
            others.push(built);
        }
    });
    after(async () => {
        for (const other of others.reverse()) {
            await other.server.stop({ timeout: 1000 });
        }

        await first.stop();
    });

    const instances = () => [first.context, ...others.map((other) => other.context)];
    const calls = async () => (await ops(first, 'calls', undefined, 'GET')).body as { token: number; stableToken: number; forceRefresh: number };
    const tokenEndpoint = (query: string) => json(first.server, { method: 'GET', url: `/sandbox/cgi-bin/token?${query}` });

    it('three instances asking at once share one token, fetched with exactly one stable_token call', async () => {
        const tokens = await Promise.all(instances().flatMap((context) => [context.ops.tokens.get(), context.ops.tokens.get(), context.ops.tokens.get()]));
        expect(new Set(tokens).size).to.equal(1);
        expect(await calls()).to.equal({ token: 0, stableToken: 1, forceRefresh: 0 });

        // and it works at WeChat, from every instance, with no further refresh
        for (const context of instances()) {
            expect(await context.ops.api.post('/cgi-bin/express/delivery/open_msg/get_delivery_list', {})).to.include({ errcode: 0 });
        }

        expect((await calls()).stableToken).to.equal(1);
    });

    it('is kept until shortly before it expires, then refreshed once for all', async () => {
        await WechatAccessToken.update({ expiresAt: new Date(Date.now() + 5 * 60_000) }, { where: { appId: first.config.wechat.appId } });
        const before = (await calls()).stableToken;
        const tokens = await Promise.all(instances().map((context) => context.ops.tokens.get()));
        expect(new Set(tokens).size).to.equal(1);
        expect((await calls()).stableToken).to.equal(before + 1);
    });

    it('fetches again once on 40001 and repeats the call once', async () => {
        const before = await calls();
        // Someone resets the token with force_refresh (a leak): the shared one is dead at WeChat now.
        const forced = await json(first.server, { method: 'POST', url: '/sandbox/cgi-bin/stable_token', payload: { grant_type: 'client_credential', appid: first.config.wechat.appId, secret: first.config.wechat.secret, force_refresh: true } });
        expect(forced.body.access_token).to.be.a.string();
        const answer = await others[0].context.ops.api.post('/cgi-bin/express/delivery/open_msg/get_delivery_list', {});
        expect(answer).to.include({ errcode: 0 });
        const after = await calls();
        expect(after.stableToken).to.equal(before.stableToken + 2);          // the force above, and one refetch
        expect(await first.context.ops.tokens.get()).to.equal(forced.body.access_token);
        expect(after.token).to.equal(0);                                     // never /cgi-bin/token
    });

    it('a refused secret is an error to retry later, and leaves the refresh lease free', async () => {
        const wrong = new AccessTokens({ appId: 'wx00000000000000ff', secret: 'wrong', baseUrl: () => `${first.base}/sandbox`, timeoutMs: 1000 });
        for (let i = 0; i < 2; ++i) {
            const err = await expect(wrong.get()).to.reject(WechatApiError);
            expect((err as WechatApiError).errcode).to.equal(40013);
            expect((err as WechatApiError).transient).to.be.true();
        }

        expect((await WechatAccessToken.findByPk('wx00000000000000ff'))!.refreshingUntil).to.be.null();
    });

    it("the simulator's /cgi-bin/token invalidates the token before it, as WeChat does", async () => {
        await ops(first, 'settings', { tokenGraceSeconds: 0 });
        const query = `grant_type=client_credential&appid=${first.config.wechat.appId}&secret=${first.config.wechat.secret}`;
        const older = (await tokenEndpoint(query)).body.access_token;
        const newer = (await tokenEndpoint(query)).body.access_token;
        const list = (token: string) => json(first.server, { method: 'POST', url: `/sandbox/cgi-bin/express/delivery/open_msg/get_delivery_list?access_token=${encodeURIComponent(token)}`, payload: {} });
        expect((await list(older)).body.errcode).to.equal(40001);
        expect((await list(newer)).body.errcode).to.equal(0);
        expect((await list('')).body.errcode).to.equal(41001);
        expect((await tokenEndpoint(query.replace(/secret=[^&]+/, 'secret=wrong'))).body.errcode).to.equal(40125);

        await ops(first, 'settings', { tokenGraceSeconds: 300 });
        const third = (await tokenEndpoint(query)).body.access_token;
        expect((await list(newer)).body.errcode).to.equal(0);               // within the 5-minute grace
        await json(first.server, { method: 'POST', url: '/sandbox/__sim/clock', payload: { advanceMs: 301_000 } });
        expect((await list(newer)).body.errcode).to.equal(40001);
        expect((await list(third)).body.errcode).to.equal(0);
    });
});
