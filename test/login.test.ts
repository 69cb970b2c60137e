import * as Crypto from 'crypto';
import * as Http from 'http';
import type { AddressInfo } from 'net';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import * as Jwt from 'jsonwebtoken';
import { QueryTypes } from 'sequelize';

import { startSandboxServer } from '../sandbox/server';
import { json, openDatabase, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const appOverrides = { RATE_LIMIT_LOGIN: '100000' };

async function mint(app: TestApp, payload: object = {}): Promise<{ code: string; openid: string }> {
    const res = await json(app.server, { method: 'POST', url: '/sandbox/__sim/login-codes', payload });
    expect(res.statusCode).to.equal(200);
    return res.body;
}

function postLogin(app: TestApp, payload: unknown) {
    return json(app.server, { method: 'POST', url: '/users/login', payload: payload as any });
}

async function arm(app: TestApp, fault: object): Promise<void> {
    const res = await app.server.inject({ method: 'POST', url: '/sandbox/__sim/faults', payload: { endpoint: 'jscode2session', ...fault } });
    expect(res.statusCode).to.equal(204);
}

function expectBoom(res: { statusCode: number; body: any }, statusCode: number, error: string, message?: RegExp) {
    expect(res.statusCode, JSON.stringify(res.body)).to.equal(statusCode);
    expect(res.body.statusCode).to.equal(statusCode);
    expect(res.body.error).to.equal(error);
    expect(res.body.token).to.not.exist();
    if (message) {
        expect(res.body.message).to.match(message);
    }
}

async function countUsers(app: TestApp, openid: string): Promise<number> {
    const db = openDatabase(app);
    try {
        const [row] = await db.query<{ count: number | string }>('SELECT COUNT(*) AS count FROM users WHERE openid = :openid', { replacements: { openid }, type: QueryTypes.SELECT });
        return Number(row.count);
    }
    finally {
        await db.close();
    }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
    const server = Http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

describe('POST /users/login', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp(appOverrides);
    });
    after(() => app.stop());

    it('exchanges a wx.login code for a JWT and the user id', async () => {
        const { code } = await mint(app);
        const asked = Date.now();
        const res = await postLogin(app, { code });
        expect(res.statusCode).to.equal(200);
        expect(Object.keys(res.body).sort()).to.equal(['expiresIn', 'token', 'user']);
        expect(res.body.expiresIn).to.equal(7200);
        expect(res.body.user).to.equal({ id: res.body.user.id });
        expect(Number.isInteger(res.body.user.id) && res.body.user.id > 0).to.be.true();

        const decoded = Jwt.decode(res.body.token, { complete: true }) as Jwt.Jwt;
        expect(decoded.header.alg).to.equal('HS256');
        const claims = decoded.payload as Jwt.JwtPayload;
        expect(claims.sub).to.equal(String(res.body.user.id));
        expect(claims.iss).to.equal('wxshop');
        expect(claims.aud).to.equal('wxshop-miniprogram');
        expect(claims.exp! - claims.iat!).to.equal(7200);
        expect(claims.iat!, 'iat is the unix second the token was issued').to.be.within(Math.floor(asked / 1000), Math.ceil(Date.now() / 1000));
        // The token verifies with the configured secret.
        expect(() => Jwt.verify(res.body.token, app.config.jwt.secret, { algorithms: ['HS256'] })).to.not.throw();
    });

    it('logs the same openid in as the same user, and another openid as another user', async () => {
        const first = await mint(app);
        const a = await postLogin(app, { code: first.code });
        const b = await postLogin(app, { code: (await mint(app, { openid: first.openid })).code });
        const c = await postLogin(app, { code: (await mint(app)).code });
        expect(a.statusCode).to.equal(200);
        expect(b.statusCode).to.equal(200);
        expect(c.statusCode).to.equal(200);
        expect(b.body.user.id).to.equal(a.body.user.id);
        expect(c.body.user.id).to.not.equal(a.body.user.id);
        expect(await countUsers(app, first.openid)).to.equal(1);
    });

    it('makes one row for concurrent first logins of one openid', async () => {
        const openid = `o${Crypto.randomBytes(14).toString('hex')}`;
        const codes = await Promise.all(Array.from({ length: 6 }, () => mint(app, { openid })));
        const results = await Promise.all(codes.map(({ code }) => postLogin(app, { code })));
        for (const res of results) {
            expect(res.statusCode, JSON.stringify(res.body)).to.equal(200);
            expect(res.body.user.id).to.equal(results[0].body.user.id);
        }

        expect(await countUsers(app, openid)).to.equal(1);
    });

    it('stores the unionid of a first login', async () => {
        const openid = `o${Crypto.randomBytes(14).toString('hex')}`;
        const id = (await postLogin(app, { code: (await mint(app, { openid, unionid: 'u-at-first' })).code })).body.user.id;
        expect((await postLogin(app, { code: (await mint(app, { openid, unionid: 'u-at-first' })).code })).body.user.id).to.equal(id);
        const db = openDatabase(app);
        try {
            const rows = await db.query<{ unionid: string | null }>('SELECT unionid FROM users WHERE openid = :openid', { replacements: { openid }, type: QueryTypes.SELECT });
            expect(rows).to.equal([{ unionid: 'u-at-first' }]);
        }
        finally {
            await db.close();
        }
    });

    it('stores the unionid when WeChat sends one, and updates it', async () => {
        const openid = `o${Crypto.randomBytes(14).toString('hex')}`;
        expect((await postLogin(app, { code: (await mint(app, { openid })).code })).statusCode).to.equal(200);
        const id = (await postLogin(app, { code: (await mint(app, { openid, unionid: 'u-first' })).code })).body.user.id;
        const again = await postLogin(app, { code: (await mint(app, { openid })).code });
        expect(again.body.user.id).to.equal(id);

        const db = openDatabase(app);
        try {
            const read = async () => (await db.query<{ unionid: string | null }>('SELECT unionid FROM users WHERE id = :id', { replacements: { id }, type: QueryTypes.SELECT }))[0].unionid;
            expect(await read()).to.equal('u-first');      // a login without a unionid does not erase it
            await postLogin(app, { code: (await mint(app, { openid, unionid: 'u-second' })).code });
            expect(await read()).to.equal('u-second');
        }
        finally {
            await db.close();
        }
    });

    it('answers 401 for a code used a second time', async () => {
        const { code } = await mint(app);
        expect((await postLogin(app, { code })).statusCode).to.equal(200);
        expectBoom(await postLogin(app, { code }), 401, 'Unauthorized', /call wx\.login\(\) again/);
    });

    it('answers 401 for an unknown code', async () => {
        expectBoom(await postLogin(app, { code: Crypto.randomBytes(16).toString('hex') }), 401, 'Unauthorized', /invalid, expired or already used/);
    });

    it('answers 401 for a code older than 5 minutes', async () => {
        const { code } = await mint(app);
        const moved = await json(app.server, { method: 'POST', url: '/sandbox/__sim/clock', payload: { advanceMs: 5 * 60_000 + 1000 } });
        expect(moved.statusCode).to.equal(200);
        expectBoom(await postLogin(app, { code }), 401, 'Unauthorized');
        // A code minted now (on the moved clock) still works.
        expect((await postLogin(app, { code: (await mint(app)).code })).statusCode).to.equal(200);
    });

    it('answers 403 for a risky user WeChat blocks (40226)', async () => {
        const { code, openid } = await mint(app, { blocked: true });
        expectBoom(await postLogin(app, { code }), 403, 'Forbidden', /risky user/);
        expect(await countUsers(app, openid)).to.equal(0);
    });

    it('answers 429 when WeChat rate limits (45011), without retrying', async () => {
        const { code } = await mint(app);
        await arm(app, { kind: 'errcode', code: 45011 });
        expectBoom(await postLogin(app, { code }), 429, 'Too Many Requests', /try again in a minute/);
        // WeChat did not redeem the code: it still works once the limit has passed.
        expect((await postLogin(app, { code })).statusCode).to.equal(200);
    });

    it('retries once when WeChat is busy (-1) and succeeds', async () => {
        const { code } = await mint(app);
        await arm(app, { kind: 'errcode', code: -1 });
        const res = await postLogin(app, { code });
        expect(res.statusCode, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.user.id).to.be.a.number();
    });

    it('answers 503 when WeChat is busy (-1) twice', async () => {
        const { code } = await mint(app);
        await arm(app, { kind: 'errcode', code: -1, times: 2 });
        expectBoom(await postLogin(app, { code }), 503, 'Service Unavailable', /try again shortly/);
        // Exactly two calls were made: the third one finds no fault and the code unused.
        expect((await postLogin(app, { code })).statusCode).to.equal(200);
    });

    it('answers 503 when WeChat does not answer within the timeout, twice', async () => {
        const { code } = await mint(app);
        // WeChat would answer each attempt after 10 s. Not a third attempt: it would find no fault left and succeed.
        await arm(app, { kind: 'timeout', delayMs: 10_000, times: 2 });
        const started = Date.now();
        expectBoom(await postLogin(app, { code }), 503, 'Service Unavailable');
        const elapsed = Date.now() - started;
        expect(elapsed, 'two attempts of the 1000 ms timeout').to.be.at.least(2000);
        expect(elapsed, 'the app waited for a WeChat answer instead of its own timeout').to.be.below(10_000);
    });

    it('retries once after a timeout and succeeds', async () => {
        const { code } = await mint(app);
        await arm(app, { kind: 'timeout', delayMs: 1500 });
        const res = await postLogin(app, { code });
        expect(res.statusCode, JSON.stringify(res.body)).to.equal(200);
    });

    it('answers 503 when WeChat answers 5xx twice, and retries a single 5xx', async () => {
        const { code } = await mint(app);
        await arm(app, { kind: 'http500', times: 2 });
        expectBoom(await postLogin(app, { code }), 503, 'Service Unavailable');
        await arm(app, { kind: 'http500' });
        expect((await postLogin(app, { code })).statusCode).to.equal(200);
    });

    it('answers 502 for a WeChat error that means wxshop is misconfigured, without leaking the secret', async () => {
        const { code } = await mint(app);
        await arm(app, { kind: 'errcode', code: 40125 });
        const res = await postLogin(app, { code });
        expectBoom(res, 502, 'Bad Gateway', /operator has been told/);
        expect(JSON.stringify(res.body)).to.not.contain(app.config.wechat.secret);
    });

    it('rejects bad payloads with 400 and never calls WeChat', async () => {
        // Armed for the next call that reaches WeChat: none of the bad payloads may take it.
        await arm(app, { kind: 'errcode', code: 45011 });
        const bad: unknown[] = [
            {}, { code: '' }, { code: '   ' }, { code: 42 }, { code: null }, { code: ['a'] }, { code: 'x'.repeat(129) },
            { code: 'abc', openid: 'o-forged' }, 'code=abc', null
        ];
        for (const payload of bad) {
            const res = await postLogin(app, payload);
            expectBoom(res, 400, 'Bad Request');
            expect(res.body.message).to.be.a.string();
        }

        const notJson = await app.server.inject({ method: 'POST', url: '/users/login', payload: '{"code":', headers: { 'content-type': 'application/json' } });
        expect(notJson.statusCode).to.equal(400);
        expect(JSON.parse(notJson.payload).error).to.equal('Bad Request');
        expect((await postLogin(app, { code: (await mint(app)).code })).statusCode).to.equal(429);
    });

    it('accepts a code with surrounding whitespace (trimmed)', async () => {
        const { code } = await mint(app);
        expect((await postLogin(app, { code: ` ${code}\n` })).statusCode).to.equal(200);
    });

    it('stores the session_key nowhere', async () => {
        const { openid } = await loggedIn(app);
        const db = openDatabase(app);
        try {
            const columns = Object.keys(await db.getQueryInterface().describeTable('users')).sort();
            expect(columns).to.equal(['created_at', 'id', 'openid', 'unionid', 'updated_at']);

            // The simulator keeps one session_key per openid: ask it, as WeChat would answer the backend.
            const { code } = await mint(app, { openid });
            const query = new URLSearchParams({ appid: app.config.wechat.appId, secret: app.config.wechat.secret, js_code: code, grant_type: 'authorization_code' });
            const answer = JSON.parse((await app.server.inject(`/sandbox/sns/jscode2session?${query}`)).payload);
            expect(answer.openid).to.equal(openid);
            const sessionKey: string = answer.session_key;
            expect(sessionKey).to.have.length(24);

            for (const table of await db.getQueryInterface().showAllTables()) {
                const name = typeof table === 'string' ? table : (table as any).tableName;
                const rows = await db.query(`SELECT * FROM ${db.getQueryInterface().quoteIdentifier(name)}`, { type: QueryTypes.SELECT });
                expect(JSON.stringify(rows), name).to.not.contain(sessionKey);
                expect(JSON.stringify(rows), name).to.not.contain(Buffer.from(sessionKey, 'base64').toString('hex'));
            }
        }
        finally {
            await db.close();
        }
    });

    it('is served JSON as text/plain by the mounted simulator, and parses it', async () => {
        const { code } = await mint(app);
        const query = new URLSearchParams({ appid: app.config.wechat.appId, secret: app.config.wechat.secret, js_code: code, grant_type: 'authorization_code' });
        const direct = await app.server.inject(`/sandbox/sns/jscode2session?${query}`);
        expect(String(direct.headers['content-type'])).to.startWith('text/plain');
        expect((await postLogin(app, { code: (await mint(app)).code })).statusCode).to.equal(200);
    });
});

/** A user that has logged in, with its openid. */
async function loggedIn(app: TestApp): Promise<{ openid: string; userId: number }> {
    const { code, openid } = await mint(app);
    const res = await postLogin(app, { code });
    expect(res.statusCode).to.equal(200);
    return { openid, userId: res.body.user.id };
}

describe('POST /users/login against a WeChat with other credentials', () => {

    it('answers 502 when WeChat does not know the appid (40013)', async () => {
        const standalone = await startSandboxServer({
            appId: `wx${Crypto.randomBytes(8).toString('hex')}`,
            appSecret: Crypto.randomBytes(16).toString('hex'),
            mchId: '1900000109',
            apiKey: Crypto.randomBytes(16).toString('hex')
        });
        const app = await startApp({ ...appOverrides, WECHAT_API_BASE: standalone.server.info.uri });
        try {
            // The code is minted by the WeChat the app talks to, for its own appid.
            const minted = JSON.parse((await standalone.server.inject({ method: 'POST', url: '/__sim/login-codes' })).payload);
            expectBoom(await postLogin(app, { code: minted.code }), 502, 'Bad Gateway');
        }
        finally {
            await app.stop();
            await standalone.server.stop();
        }
    });

    it('answers 502 when WeChat rejects the secret (40125)', async () => {
        const appId = `wx${Crypto.randomBytes(8).toString('hex')}`;
        const standalone = await startSandboxServer({ appId, appSecret: Crypto.randomBytes(16).toString('hex'), mchId: '1900000109', apiKey: Crypto.randomBytes(16).toString('hex') });
        const app = await startApp({ ...appOverrides, WECHAT_APPID: appId, WECHAT_API_BASE: standalone.server.info.uri });
        try {
            const minted = JSON.parse((await standalone.server.inject({ method: 'POST', url: '/__sim/login-codes' })).payload);
            const res = await postLogin(app, { code: minted.code });
            expectBoom(res, 502, 'Bad Gateway');
            expect(JSON.stringify(res.body)).to.not.contain(app.config.wechat.secret);

            // With the right secret the same WeChat accepts the same, still unused, code.
            standalone.sandbox.options.appSecret = app.config.wechat.secret;
            expect((await postLogin(app, { code: minted.code })).statusCode).to.equal(200);
        }
        finally {
            await app.stop();
            await standalone.server.stop();
        }
    });

    it('logs in through a WeChat that sends application/json', async () => {
        const options = { appId: `wx${Crypto.randomBytes(8).toString('hex')}`, appSecret: Crypto.randomBytes(16).toString('hex'), mchId: '1900000109', apiKey: Crypto.randomBytes(16).toString('hex'), plainTextJson: false };
        const standalone = await startSandboxServer(options);
        const app = await startApp({ ...appOverrides, WECHAT_APPID: options.appId, WECHAT_SECRET: options.appSecret, WECHAT_API_BASE: standalone.server.info.uri });
        try {
            const minted = JSON.parse((await standalone.server.inject({ method: 'POST', url: '/__sim/login-codes' })).payload);
            const res = await postLogin(app, { code: minted.code });
            expect(res.statusCode, JSON.stringify(res.body)).to.equal(200);
            expect(await countUsers(app, minted.openid)).to.equal(1);
        }
        finally {
            await app.stop();
            await standalone.server.stop();
        }
    });
});

describe('POST /users/login against a WeChat that answers oddly', () => {

    // A raw HTTP server that plays a WeChat answering what a test says (answers the simulator cannot give).
    let answer: (res: Http.ServerResponse) => void;
    let calls = 0;
    let fake: Http.Server;
    let app: TestApp;

    before(async () => {
        fake = Http.createServer((req, res) => {
            ++calls;
            answer(res);
        });
        await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
        app = await startApp({ ...appOverrides, WECHAT_API_BASE: `http://127.0.0.1:${(fake.address() as AddressInfo).port}` });
    });

    after(async () => {
        await app.stop();
        await new Promise((resolve) => fake.close(resolve));
    });

    const respond = (status: number, type: string, body: string) => (res: Http.ServerResponse) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
    };

    it('accepts errcode 0 with an openid as success', async () => {
        answer = respond(200, 'text/plain', JSON.stringify({ errcode: 0, errmsg: 'ok', openid: 'o-errcode-zero', session_key: Crypto.randomBytes(16).toString('base64') }));
        const res = await postLogin(app, { code: 'any' });
        expect(res.statusCode, JSON.stringify(res.body)).to.equal(200);
        expect(await countUsers(app, 'o-errcode-zero')).to.equal(1);
    });

    it('answers 503 after one retry for a body that is not JSON', async () => {
        calls = 0;
        answer = respond(200, 'text/html', '<html>maintenance</html>');
        expectBoom(await postLogin(app, { code: 'any' }), 503, 'Service Unavailable');
        expect(calls).to.equal(2);
    });

    it('answers 503 for an answer without an openid', async () => {
        calls = 0;
        answer = respond(200, 'text/plain', JSON.stringify({ session_key: Crypto.randomBytes(16).toString('base64') }));
        expectBoom(await postLogin(app, { code: 'any' }), 503, 'Service Unavailable');
        expect(calls).to.equal(2);
    });

    it('answers 503 for JSON that is not an object or an empty openid', async () => {
        for (const body of ['null', '[]', '"ok"', '42', JSON.stringify({ openid: '' })]) {
            calls = 0;
            answer = respond(200, 'text/plain', body);
            expectBoom(await postLogin(app, { code: 'any' }), 503, 'Service Unavailable');
            expect(calls, body).to.equal(2);
        }
    });

    it('does not retry an invalid code (40029)', async () => {
        calls = 0;
        answer = respond(200, 'text/plain', JSON.stringify({ errcode: 40029, errmsg: 'invalid code, rid: 1-2-3' }));
        expectBoom(await postLogin(app, { code: 'any' }), 401, 'Unauthorized');
        expect(calls).to.equal(1);
    });

    it('answers 503 when WeChat cannot be reached', async () => {
        const port = await closedPort();
        const unreachable = await startApp({ ...appOverrides, WECHAT_API_BASE: `http://127.0.0.1:${port}` });
        try {
            expectBoom(await postLogin(unreachable, { code: 'any' }), 503, 'Service Unavailable');
        }
        finally {
            await unreachable.stop();
        }
    });
});
