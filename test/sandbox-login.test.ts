import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';

import type { Sandbox, SandboxOptions } from '../sandbox';
import { startSandboxServer } from '../sandbox/server';
import { sandboxCredentials } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

const credentials = (): SandboxOptions => sandboxCredentials();

interface Answer {
    status: number;
    contentType: string;
    text: string;
    body: any;
}

/** A real HTTP call, as WeChat's clients make it: the body is read as text and parsed whatever the content type. */
async function call(url: string, init?: RequestInit): Promise<Answer> {
    const response = await fetch(url, init);
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, body: JSON.parse(text) };
}

describe('the standalone WeChat simulator: jscode2session', () => {

    let server: Hapi.Server;
    let sandbox: Sandbox;
    let options: SandboxOptions;
    let base: string;

    before(async () => {
        options = credentials();
        ({ server, sandbox } = await startSandboxServer(options));
        base = server.info.uri;
    });

    after(() => server.stop());

    const mint = async (payload: object = {}): Promise<{ code: string; openid: string }> => {
        const res = await call(`${base}/__sim/login-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
        expect(res.status).to.equal(200);
        return res.body;
    };

    const session = (query: Record<string, string | undefined>) => {
        const params = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== undefined) as [string, string][]);
        return call(`${base}/sns/jscode2session?${params}`);
    };

    const valid = (code: string) => ({ appid: options.appId, secret: options.appSecret, js_code: code, grant_type: 'authorization_code' });

    const expectError = (res: Answer, errcode: number, errmsg: string) => {
        expect(res.status).to.equal(200);                    // WeChat answers errors with HTTP 200
        expect(res.contentType).to.startWith('text/plain');
        expect(Object.keys(res.body).sort()).to.equal(['errcode', 'errmsg']);
        expect(res.body.errcode).to.equal(errcode);
        expect(res.body.errmsg).to.match(new RegExp(`^${errmsg}, rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`));
    };

    it('mints wx.login codes with WeChat-shaped openids, or for a given openid', async () => {
        const minted = await mint();
        expect(minted.code).to.match(/^[\w-]{32}$/);
        expect(minted.openid).to.match(/^o[\w-]{27}$/);
        const given = await mint({ openid: 'o-given-openid' });
        expect(given.openid).to.equal('o-given-openid');
        expect(given.code).to.not.equal(minted.code);
    });

    it('redeems a code for the openid and a session_key, as JSON sent as text/plain', async () => {
        const { code, openid } = await mint();
        const res = await session(valid(code));
        expect(res.status).to.equal(200);
        expect(res.contentType).to.startWith('text/plain');
        expect(res.body.openid).to.equal(openid);
        expect(res.body.errcode).to.not.exist();            // no errcode on success, as WeChat by default
        expect(res.body.unionid).to.not.exist();
        expect(res.body.session_key).to.have.length(24);
        expect(Buffer.from(res.body.session_key, 'base64')).to.have.length(16);
    });

    it('keeps the session_key stable for one openid and different between openids', async () => {
        const first = await mint();
        const again = await mint({ openid: first.openid });
        const other = await mint();
        const a = await session(valid(first.code));
        const b = await session(valid(again.code));
        const c = await session(valid(other.code));
        expect(b.body.session_key).to.equal(a.body.session_key);
        expect(c.body.session_key).to.not.equal(a.body.session_key);
    });

    it('answers the unionid when the code was minted with one', async () => {
        const { code } = await mint({ unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL' });
        const res = await session(valid(code));
        expect(res.body.unionid).to.equal('o6_bmasdasdsad6_2sgVt7hMZOPfL');
    });

    it('answers the missing-parameter codes 41002, 41004 and 41008', async () => {
        const { code } = await mint();
        expectError(await session({ ...valid(code), appid: undefined }), 41002, 'appid missing');
        expectError(await session({ ...valid(code), secret: undefined }), 41004, 'appsecret missing');
        expectError(await session({ ...valid(code), js_code: undefined }), 41008, 'missing code');
        // None of these used the code up.
        expect((await session(valid(code))).body.openid).to.exist();
    });

    it('answers 40002 for a grant_type other than authorization_code', async () => {
        const { code } = await mint();
        expectError(await session({ ...valid(code), grant_type: 'client_credential' }), 40002, 'invalid grant_type');
        expectError(await session({ ...valid(code), grant_type: undefined }), 40002, 'invalid grant_type');
    });

    it('answers 40013 for another appid and 40125 for a wrong secret', async () => {
        const { code } = await mint();
        expectError(await session({ ...valid(code), appid: `wx${Crypto.randomBytes(8).toString('hex')}` }), 40013, 'invalid appid');
        expectError(await session({ ...valid(code), secret: Crypto.randomBytes(16).toString('hex') }), 40125, 'invalid appsecret');
        expect((await session(valid(code))).body.openid).to.exist();
    });

    it('answers 40029 for an unknown code', async () => {
        expectError(await session(valid(Crypto.randomBytes(16).toString('hex'))), 40029, 'invalid code');
    });

    it('answers 40163 for a code used a second time', async () => {
        const { code } = await mint();
        expect((await session(valid(code))).body.openid).to.exist();
        expectError(await session(valid(code)), 40163, 'code been used');
        expectError(await session(valid(code)), 40163, 'code been used');
    });

    it('lets a code live 5 minutes, then answers 40029', async () => {
        const young = await mint();
        const old = await mint();
        const advance = (advanceMs: number) => call(`${base}/__sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceMs }) });
        const asked = Date.now();
        const moved = await advance(4 * 60_000 + 59_000);
        expect(moved.status).to.equal(200);
        expect(Date.parse(moved.body.now) - 4 * 60_000 - 59_000, 'the clock moved by advanceMs').to.be.within(asked, Date.now());
        expect((await session(valid(young.code))).body.openid).to.equal(young.openid);
        await advance(2_000);
        expectError(await session(valid(old.code)), 40029, 'invalid code');
    });

    it('answers 40226 for a code of a blocked (risky) user, once, then 40163', async () => {
        const { code } = await mint({ blocked: true });
        expectError(await session(valid(code)), 40226, 'code blocked');
        expectError(await session(valid(code)), 40163, 'code been used');
    });

    it('answers a POST with 41002, as WeChat does', async () => {
        const { code } = await mint();
        const res = await call(`${base}/sns/jscode2session`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(valid(code)).toString()
        });
        expectError(res, 41002, 'appid missing');
        expect((await session(valid(code))).body.openid).to.exist();
    });

    it('rejects bad hook payloads', async () => {
        const res = await call(`${base}/__sim/login-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ openid: 42 }) });
        expect(res.status).to.equal(400);
        const clock = await call(`${base}/__sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceMs: -1 }) });
        expect(clock.status).to.equal(400);
    });

    describe('faults', () => {

        const arm = async (fault: object) => {
            const res = await fetch(`${base}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: 'jscode2session', ...fault }) });
            expect(res.status).to.equal(204);
        };

        it('answers an armed errcode for as many calls as asked, then normally', async () => {
            const { code, openid } = await mint();
            await arm({ kind: 'errcode', code: 45011, times: 2 });
            expectError(await session(valid(code)), 45011, 'simulated error');
            expectError(await session(valid(code)), 45011, 'simulated error');
            expect((await session(valid(code))).body.openid).to.equal(openid);
        });

        it('answers an HTML 502 for http500', async () => {
            await arm({ kind: 'http500' });
            const response = await fetch(`${base}/sns/jscode2session?${new URLSearchParams(valid('x'))}`);
            expect(response.status).to.equal(502);
            expect(response.headers.get('content-type') ?? '').to.startWith('text/html');
        });

        it('holds the answer for a timeout', async () => {
            const { code } = await mint();
            await arm({ kind: 'timeout', delayMs: 300 });
            const started = Date.now();
            const res = await session(valid(code));
            expect(Date.now() - started).to.be.at.least(290);
            expect(res.body.openid).to.exist();
        });

        it('rejects an unknown fault kind', async () => {
            const res = await fetch(`${base}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: 'jscode2session', kind: 'explode' }) });
            expect(res.status).to.equal(400);
            sandbox.faults.clear();
        });
    });
});

describe('the standalone WeChat simulator with plainTextJson: false', () => {

    it('sends application/json', async () => {
        const options = { ...credentials(), plainTextJson: false };
        const { server } = await startSandboxServer(options);
        try {
            const minted = await call(`${server.info.uri}/__sim/login-codes`, { method: 'POST' });
            expect(minted.status).to.equal(200);
            const params = new URLSearchParams({ appid: options.appId, secret: options.appSecret, js_code: minted.body.code, grant_type: 'authorization_code' });
            const res = await call(`${server.info.uri}/sns/jscode2session?${params}`);
            expect(res.contentType).to.startWith('application/json');
            expect(res.body.openid).to.equal(minted.body.openid);
        }
        finally {
            await server.stop();
        }
    });
});
