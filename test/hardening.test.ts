import * as Fs from 'fs';
import * as Net from 'net';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';

import { buildApp, startBanner } from '../app';
import { ConfigError, loadConfig } from '../config';
import { bearerHint } from '../plugins/auth';
import { freshDatabaseUrl, json, login, sleep, startApp, testEnv, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** Sends `chunks` on a raw socket (one every `everyMs`), and collects what comes back until the server closes. */
function rawRequest(port: number, chunks: string[], everyMs = 0, giveUpMs = 30_000): Promise<{ answer: string; closedAfterMs: number }> {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const socket = Net.connect(port, '127.0.0.1');
        let answer = '';
        const giveUp = setTimeout(() => {
            socket.destroy();
            reject(new Error(`the server kept the connection open ${giveUpMs} ms; got: ${JSON.stringify(answer)}`));
        }, giveUpMs);
        socket.on('data', (data) => (answer += data));
        socket.on('error', () => {});
        socket.on('close', () => {
            clearTimeout(giveUp);
            resolve({ answer, closedAfterMs: Date.now() - started });
        });
        socket.on('connect', async () => {
            for (const chunk of chunks) {
                if (socket.destroyed) {
                    return;
                }

                socket.write(chunk);
                await sleep(everyMs);
            }
        });
    });
}

const securityHeaders = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-download-options': 'noopen'
};

describe('HTTP hardening', () => {

    let app: TestApp;
    let user: Awaited<ReturnType<typeof login>>;

    before(async () => {
        app = await startApp({ REQUEST_TIMEOUT_MS: '500' });
        app.server.route({ method: 'GET', path: '/__test/me', options: { auth: 'jwt' }, handler: (request) => request.auth.credentials });
        app.server.route({
            method: 'POST',
            path: '/__test/slow',
            options: { auth: false },
            handler: async () => {
                await sleep(1500);
                return { done: true };
            }
        });
        user = await login(app);
    });

    after(() => app.stop());

    describe('the Authorization header', () => {

        const me = (authorization?: string) => json(app.server, { method: 'GET', url: '/__test/me', headers: authorization === undefined ? {} : { authorization } });

        it('takes exactly "Bearer <token>", the scheme in any case (RFC 7235: schemes are case-insensitive)', async () => {
            for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
                const res = await me(`${scheme} ${user.token}`);
                expect(res.statusCode, scheme).to.equal(200);
                expect(res.body.userId).to.equal(user.userId);
            }
        });

        it('refuses every other shape with a 401 that says to send "Bearer <token>", on the app\'s routes too', async () => {
            const shapes: Record<string, string> = {
                'Bearer after another scheme': `Basic dXNlcjpwYXNz Bearer ${user.token}`,
                'a prefix glued to the scheme': `xBearer ${user.token}`,
                'a bare token': user.token,
                'two spaces': `Bearer  ${user.token}`,
                'a tab': `Bearer\t${user.token}`,
                'a leading space': ` Bearer ${user.token}`,
                'a second credential': `Bearer ${user.token}, Basic dXNlcjpwYXNz`,
                'another scheme': `Token ${user.token}`,
                'the scheme alone': 'Bearer',
                'a token that is not a JWT': 'Bearer nonsense'
            };
            for (const [why, authorization] of Object.entries(shapes)) {
                for (const url of ['/__test/me', '/orders']) {
                    const res = await json(app.server, { method: 'GET', url, headers: { authorization } });
                    expect(res.statusCode, `${why} on ${url}`).to.equal(401);
                    expect(res.body.message, `${why} on ${url}`).to.equal(bearerHint);
                    expect(res.body.message).to.contain('Bearer <token>');
                }
            }
        });

        it('says "Missing authentication" when there is no header at all', async () => {
            const res = await me();
            expect(res.statusCode).to.equal(401);
            expect(res.body.message).to.equal('Missing authentication');
        });
    });

    describe('a request body that never completes', () => {

        const head = 'POST /users/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';

        const cutOff = /^HTTP\/1\.1 408 [^\r]*\r\n(.*\r\n)*connection: close\r\n/i;

        it('is answered and its connection closed once REQUEST_TIMEOUT_MS has passed', async () => {
            const { answer, closedAfterMs } = await rawRequest(app.server.info.port as number, [head, '{"code":']);
            expect(answer).to.match(cutOff);
            expect(answer).to.contain('send its headers and body within REQUEST_TIMEOUT_MS');
            expect(answer).to.contain('x-content-type-options: nosniff');
            expect(closedAfterMs).to.be.at.least(500);
        });

        it('is answered even when it trickles in a byte at a time (not an idle timeout)', async () => {
            const trickle = Array.from({ length: 100 }, () => ' ');
            const { answer, closedAfterMs } = await rawRequest(app.server.info.port as number, [head, ...trickle], 100);
            expect(answer).to.match(cutOff);
            expect(closedAfterMs).to.be.below(100 * 100);
        });

        it('does not cut a handler that takes longer than the timeout once the body is in', async () => {
            const res = await fetch(`${app.base}/__test/slow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
            expect(res.status).to.equal(200);
            expect(await res.json()).to.equal({ done: true });
        });

        it('defaults to 10 s', () => {
            expect(loadConfig(testEnv()).http.requestTimeoutMs).to.equal(10_000);
            expect(() => loadConfig(testEnv({ REQUEST_TIMEOUT_MS: '0' }))).to.throw(ConfigError, /REQUEST_TIMEOUT_MS must be an integer/);
        });
    });

    describe('security headers', () => {

        it('are on every response: API, errors, Swagger, the simulator', async () => {
            const requests: Hapi.ServerInjectOptions[] = [
                { url: '/health' },
                { url: '/shops' },
                { url: '/shops?limit=1000' },
                { url: '/orders' },
                { url: '/no/such/route' },
                { method: 'POST', url: '/users/login', payload: 'not json', headers: { 'content-type': 'application/json' } },
                { url: '/orders', headers: user.auth },
                { url: '/documentation' },
                { url: '/swagger.json' },
                { url: '/swaggerui/swagger-ui-bundle.js' },
                { method: 'POST', url: '/sandbox/__sim/login-codes', payload: {} }
            ];
            const statuses = new Set<number>();
            for (const request of requests) {
                const res = await app.server.inject(request);
                statuses.add(res.statusCode);
                for (const [name, value] of Object.entries(securityHeaders)) {
                    expect(res.headers[name], `${name} on ${request.method ?? 'GET'} ${request.url} (${res.statusCode})`).to.equal(value);
                }

                expect(res.headers['strict-transport-security'], 'no HSTS outside production').to.not.exist();
            }

            expect([...statuses].sort()).to.equal([200, 400, 401, 404]);
        });

        it('include HSTS in production, which is served over https', async () => {
            const config = loadConfig(testEnv({
                NODE_ENV: 'production',
                SANDBOX: 'false',
                DATABASE_URL: await freshDatabaseUrl(),
                WECHATPAY_NOTIFY_URL: 'https://shop.example/orders/pay/notify',
                LOG_LEVEL: 'silent'
            }));
            const { server } = await buildApp(config);
            try {
                const res = await server.inject('/health');
                expect(res.statusCode).to.equal(200);
                expect(res.headers['strict-transport-security']).to.equal('max-age=15552000');
                expect(res.headers['x-content-type-options']).to.equal('nosniff');
            }
            finally {
                await server.stop();
            }
        });
    });

    describe('Swagger', () => {

        const spec = async (headers: Record<string, string> = {}) => JSON.parse((await app.server.inject({ url: '/swagger.json', headers })).payload);

        it('does not let a client choose the host or scheme of swagger.json', async () => {
            const attempts: Array<Record<string, string>> = [{}, { host: 'evil.example' }, { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }, { 'disguised-host': 'evil.example' }, { referer: 'https://evil.example/docs' }];
            for (const headers of attempts) {
                const doc = await spec(headers);
                expect(doc.host, JSON.stringify(headers)).to.not.exist();
                expect(doc.schemes, JSON.stringify(headers)).to.not.exist();
                expect(JSON.stringify(doc)).to.not.contain('evil.example');
            }
        });

        it('loads only its own spec, whatever ?url= says', async () => {
            const res = await app.server.inject('/documentation?url=https://evil.example/spec.json');
            expect(res.statusCode).to.equal(200);
            expect(res.payload).to.contain('data-spec="/swagger.json"');
            expect(res.payload).to.contain('queryConfigEnabled: false');
            expect(res.payload).to.not.contain('evil.example');
            expect(res.payload).to.not.contain('location');
        });

        it('names every schema (no Model1, Model2, ...), and every reference resolves', async () => {
            const doc = await spec();
            const names = Object.keys(doc.definitions);
            expect(names.filter((name) => /^Model\d+$/.test(name))).to.equal([]);
            expect(names).to.include(['OrderStatus', 'ReadyStatus', 'PayRequestTradeType']);
            const refs = [...JSON.stringify(doc).matchAll(/"#\/definitions\/([^"]+)"/g)].map((match) => decodeURIComponent(match[1]));
            for (const ref of refs) {
                expect(doc.definitions[ref], ref).to.exist();
            }
        });

        it('keeps "<token>" in the Authorize hint (in a code span, which Markdown does not treat as HTML)', async () => {
            const doc = await spec();
            expect(doc.securityDefinitions.jwt.description).to.contain('`Bearer <token>`');
            const header = doc.paths['/orders'].post.parameters.find((parameter: any) => parameter.name === 'authorization');
            expect(header.description).to.contain('`Bearer <token>`');
        });
    });

    it('gives routes the app context through their plugin options only', () => {
        expect(Object.keys(app.server.app)).to.not.include('context');
        expect(app.context.config).to.shallow.equal(app.config);
    });
});

/** What Swagger UI puts in a body's sample (swagger-ui's sampleFromSchema for Swagger 2.0, in short). */
function swaggerUiSample(schema: any, definitions: Record<string, any>): unknown {
    if (schema.$ref) {
        return swaggerUiSample(definitions[decodeURIComponent(schema.$ref.slice('#/definitions/'.length))], definitions);
    }

    if (schema.example !== undefined) {
        return schema.example;
    }

    if (schema.type === 'object') {
        return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, swaggerUiSample(property, definitions)]));
    }

    if (schema.type === 'array') {
        return [swaggerUiSample(schema.items, definitions)];
    }

    if (schema.enum) {
        return schema.enum[0];
    }

    if (schema.type === 'integer' || schema.type === 'number') {
        // As swagger-ui does: 0, then the minimum, then the maximum, the last one set wins.
        return schema.maximum ?? schema.minimum ?? 0;
    }

    return schema.type === 'boolean' ? true : 'string';
}

describe('Swagger examples on the demo seed', () => {

    let server: Hapi.Server;

    before(async () => {
        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-examples-'));
        ({ server } = await buildApp(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', JOBS: 'false' })));
        await server.start();
    });

    after(() => server.stop());

    it('POST /orders with the body Swagger UI fills in is a 201', async () => {
        const doc = JSON.parse((await server.inject('/swagger.json')).payload);
        const body = doc.paths['/orders'].post.parameters.find((parameter: any) => parameter.in === 'body');
        const sample = swaggerUiSample(body.schema, doc.definitions);
        expect(sample).to.equal({ goodsList: [{ goodsId: 1, count: 1 }] });

        const code = JSON.parse((await server.inject({ method: 'POST', url: '/sandbox/__sim/login-codes', payload: {} })).payload).code;
        const token = JSON.parse((await server.inject({ method: 'POST', url: '/users/login', payload: { code } })).payload).token;
        const res = await json(server, { method: 'POST', url: '/orders', headers: { authorization: `Bearer ${token}` }, payload: sample as object });
        expect(res.statusCode, JSON.stringify(res.body)).to.equal(201);
        expect(res.body.items[0]).to.include({ goodsId: 1, count: 1 });
    });
});

describe('configuration', () => {

    const production = (overrides: Record<string, string>) => testEnv({
        NODE_ENV: 'production',
        SANDBOX: 'false',
        DATABASE_URL: 'postgres://wxshop@127.0.0.1:9/wxshop',
        WECHATPAY_NOTIFY_URL: 'https://shop.example/orders/pay/notify',
        ...overrides
    });

    it('refuses http:// WeChat base URLs in production (the AppSecret would travel in cleartext)', () => {
        for (const name of ['WECHAT_API_BASE', 'WECHATPAY_API_BASE']) {
            expect(() => loadConfig(production({ [name]: 'http://api.weixin.qq.com' })), name).to.throw(ConfigError, new RegExp(`${name} must be https:// with NODE_ENV=production`));
        }

        const config = loadConfig(production({ WECHAT_API_BASE: 'https://wechat-proxy.example', WECHATPAY_API_BASE: 'https://pay-proxy.example/' }));
        expect(config.wechat.apiBase).to.equal('https://wechat-proxy.example');
        expect(config.pay.apiBase).to.equal('https://pay-proxy.example');
        // Outside production an http base stays possible (a local simulator).
        expect(loadConfig(testEnv({ SANDBOX: 'false', WECHAT_API_BASE: 'http://127.0.0.1:3100' })).wechat.apiBase).to.equal('http://127.0.0.1:3100');
    });

    it('names the database in the start banner with its credentials masked', () => {
        const url = 'postgres://shop:s3cret-pa55@db.internal:5432/wxshop';
        const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-banner-')), DATABASE_URL: url });
        const banner = startBanner(config, 'http://127.0.0.1:3000').join('\n');
        expect(banner).to.contain('demo mode: PostgreSQL at postgres://***@db.internal:5432/wxshop');
        expect(banner).to.not.contain('s3cret-pa55');
        expect(banner).to.not.contain('shop:');
        expect(banner).to.not.contain('SQLite');

        const sqlite = loadConfig({ NODE_ENV: 'test', DATA_DIR: config.dataDir });
        expect(startBanner(sqlite, 'http://127.0.0.1:3000').join('\n')).to.contain(`demo mode: SQLite at ${Path.join(config.dataDir, 'wxshop.sqlite')}`);
    });
});
