import * as ChildProcess from 'child_process';
import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import type * as Hapi from '@hapi/hapi';
import { Sequelize } from 'sequelize';

import { buildApp } from '../app';
import { Config, loadConfig } from '../config';
import type { AppContext } from '../lib/context';
import { createSequelize, dialectOf } from '../lib/db';
import { Goods, Shop } from '../models';
import type { Sandbox } from '../sandbox';

/** The database this run of the suite is on: the test runner sets DATABASE_URL per pass (SQLite by default). */
export const databaseUrl = process.env.DATABASE_URL ?? '';
export const dialect = databaseUrl ? dialectOf(databaseUrl) : 'sqlite';

export interface TestApp {
    server: Hapi.Server;
    config: Config;
    /** What the routes get as plugin options, for tests that run a job directly. */
    context: AppContext;
    /** The server's own base URL (it listens on a real port: the simulator calls it back). */
    base: string;
    sandbox: Sandbox;
    stop(): Promise<void>;
}

/** WeChat credentials made at random: the simulator accepts whatever it is given, and no secret is a literal. */
export function sandboxCredentials(): { appId: string; appSecret: string; mchId: string; apiKey: string } {
    return {
        appId: `wx${Crypto.randomBytes(8).toString('hex')}`,
        appSecret: Crypto.randomBytes(16).toString('hex'),
        mchId: String(1900000000 + Crypto.randomInt(99999999)),
        apiKey: Crypto.randomBytes(16).toString('hex')
    };
}

/** The same, as the environment variables the app reads. */
export function credentialsEnv(credentials = sandboxCredentials()): Record<string, string> {
    return {
        WECHAT_APPID: credentials.appId,
        WECHAT_SECRET: credentials.appSecret,
        WECHATPAY_MCHID: credentials.mchId,
        WECHATPAY_KEY: credentials.apiKey
    };
}

/** Credentials the simulator accepts for this app: random per app, never literals. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return {
        NODE_ENV: 'test',
        SANDBOX: 'true',
        PORT: '0',
        JOBS: 'false',
        ...credentialsEnv(),
        JWT_SECRET: Crypto.randomBytes(32).toString('hex'),
        WECHAT_TIMEOUT_MS: '1000',
        WECHATPAY_TIMEOUT_MS: '1000',
        RATE_LIMIT_LOGIN: '1000000',
        RATE_LIMIT_ORDERS: '1000000',
        GOODS_CACHE_MS: '0',
        DATA_DIR: Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-test-')),
        ...overrides
    };
}

/** Every table of a PostgreSQL or MySQL database dropped, whatever state an earlier run left it in. */
export async function resetDatabase(url: string): Promise<void> {
    const sequelize = createSequelize(url, { poolMax: 1 });
    try {
        await sequelize.getQueryInterface().dropAllTables();
    }
    finally {
        await sequelize.close();
    }
}

/** A fresh, empty database: a new SQLite file, or PostgreSQL/MariaDB with every table dropped. */
export async function freshDatabaseUrl(): Promise<string> {
    if (!databaseUrl || dialect === 'sqlite') {
        return `sqlite:${Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-db-')), 'test.sqlite')}`;
    }

    await resetDatabase(databaseUrl);
    return databaseUrl;
}

/** Builds and starts the whole app with the simulator mounted, on a fresh database. */
export async function startApp(overrides: Record<string, string | undefined> = {}): Promise<TestApp> {
    const env = testEnv({ DATABASE_URL: await freshDatabaseUrl(), ...overrides });
    const config = loadConfig(env);
    const { server, context } = await buildApp(config);
    await server.start();
    const sandbox = (server.plugins as any)['wxshop-sandbox-mount'].sandbox as Sandbox;
    return {
        server,
        config,
        context,
        base: server.info.uri,
        sandbox,
        stop: () => server.stop({ timeout: 1000 })
    };
}

/** A direct connection to the app's database, for assertions that must not go through the app. */
export function openDatabase(app: TestApp): Sequelize {
    return createSequelize(app.config.database.url, { poolMax: 2 });
}

export async function json<T = any>(server: Hapi.Server, options: Hapi.ServerInjectOptions): Promise<{ statusCode: number; body: T; headers: Record<string, any> }> {
    const response = await server.inject(options);
    let body: any = response.payload;
    try {
        body = JSON.parse(response.payload);
    }
    catch { }

    return { statusCode: response.statusCode, body, headers: response.headers };
}

/** wx.login() in the simulator, then POST /users/login: a token for a (new or given) openid. */
export async function login(app: TestApp, openid?: string): Promise<{ token: string; userId: number; openid: string; auth: { authorization: string } }> {
    const minted = await json(app.server, { method: 'POST', url: '/sandbox/__sim/login-codes', payload: openid ? { openid } : {} });
    const res = await json(app.server, { method: 'POST', url: '/users/login', payload: { code: minted.body.code } });
    if (res.statusCode !== 200) {
        throw new Error(`login failed: ${res.statusCode} ${JSON.stringify(res.body)}`);
    }

    return { token: res.body.token, userId: res.body.user.id, openid: minted.body.openid, auth: { authorization: `Bearer ${res.body.token}` } };
}

/**
 * Inserts a shop with goods through the models of the app started last (tests own their catalogue: the demo
 * seeders only run in demo mode).
 */
export async function createShop(goods: Array<{ name?: string; price: number; stock: number }>): Promise<{ shopId: number; goodsIds: number[] }> {
    const shop = await Shop.create({ name: `Shop ${Crypto.randomBytes(3).toString('hex')}`, description: 'test shop', logoUrl: null });
    const created = await Goods.bulkCreate(goods.map((item, index) => ({
        shopId: shop.id,
        name: item.name ?? `Goods ${index + 1}`,
        thumbUrl: null,
        price: item.price,
        stock: item.stock
    })) as any[]);
    return { shopId: shop.id, goodsIds: created.map((row) => row.id) };
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 10_000, everyMs = 25): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value) {
            return value;
        }

        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }

        await sleep(everyMs);
    }
}

/** A new user with an unpaid order of `count` units of a fresh goods item priced `price` fen. */
export async function unpaidOrder(app: TestApp, options: { price?: number; count?: number; stock?: number; openid?: string } = {}) {
    const { goodsIds: [goodsId] } = await createShop([{ price: options.price ?? 1990, stock: options.stock ?? 10 }]);
    const user = await login(app, options.openid);
    const res = await json(app.server, { method: 'POST', url: '/orders', headers: user.auth, payload: { goodsList: [{ goodsId, count: options.count ?? 1 }] } });
    if (res.statusCode !== 201) {
        throw new Error(`order failed: ${res.statusCode} ${JSON.stringify(res.body)}`);
    }

    return { user, goodsId, order: res.body };
}

export function pay(app: TestApp, user: { auth: { authorization: string } }, orderId: number, tradeType?: 'JSAPI' | 'NATIVE') {
    return json(app.server, { method: 'POST', url: `/orders/${orderId}/pay`, headers: user.auth, payload: tradeType ? { tradeType } : undefined });
}

export function getOrder(app: TestApp, user: { auth: { authorization: string } }, orderId: number, sync = false) {
    return json(app.server, { method: 'GET', url: `/orders/${orderId}${sync ? '?sync=true' : ''}`, headers: user.auth });
}

/** A simulator hook (`/__sim/...`), through the app's own /sandbox mount. */
export function sim(app: TestApp, path: string, payload?: object, method = 'POST') {
    return json(app.server, { method, url: `/sandbox/__sim/${path}`, payload });
}

/** Waits until the order has the status, as the mini-program would see it. */
export function eventuallyStatus(app: TestApp, user: { auth: { authorization: string } }, orderId: number, status: string, timeoutMs = 10_000) {
    return eventually(async () => {
        const res = await getOrder(app, user, orderId);
        return res.body.status === status && res.body;
    }, `order ${orderId} to be ${status}`, timeoutMs);
}

/**
 * Whether a Redis answers PING at `url` within a second. Synchronous (a child process), so a test file can decide
 * at load time whether its Redis-backed tests run or are skipped.
 */
export function redisAnswers(url: string): boolean {
    const probe = `
        const { hostname, port } = new URL(process.argv[1]);
        const socket = require('net').connect(Number(port || 6379), hostname || '127.0.0.1');
        socket.setTimeout(1000, () => process.exit(1));
        socket.on('error', () => process.exit(1));
        socket.on('connect', () => socket.write('PING\\r\\n'));
        socket.on('data', (data) => process.exit(/^(\\+PONG|-NOAUTH)/.test(String(data)) ? 0 : 1));`;
    return ChildProcess.spawnSync(process.execPath, ['-e', probe, url], { timeout: 3000 }).status === 0;
}

/** Moves the shared clock (the simulator's and the backend's: one clock when mounted) forward. */
export async function advanceClocks(app: TestApp, ms: number): Promise<void> {
    const res = await sim(app, 'clock', { advanceMs: ms });
    if (res.statusCode !== 200) {
        throw new Error(`clock: ${res.statusCode} ${JSON.stringify(res.body)}`);
    }
}

/** Both clocks past WeChat's 5-minute close window, then the background jobs once: `closing` orders get closed. */
export async function passCloseWindow(app: TestApp): Promise<void> {
    const { JobRunner } = await import('../lib/jobs/runner');
    const { closeWindowMs } = await import('../lib/orders/close');
    await advanceClocks(app, closeWindowMs + 1000);
    await new JobRunner(app.context, 1000, () => {}).runOnce();
}

export function cancel(app: TestApp, user: { auth: { authorization: string } }, orderId: number) {
    return json(app.server, { method: 'POST', url: `/orders/${orderId}/cancel`, headers: user.auth });
}

export async function stockOf(goodsId: number): Promise<number> {
    return (await Goods.findByPk(goodsId))!.stock;
}

/** The prepay_id inside wx.requestPayment's `package`. */
export function prepayOf(params: { package: string }): string {
    return params.package.slice('prepay_id='.length);
}

/** curl: a real request to a real port, JSON in and out. */
export async function curl(base: string, method: string, path: string, body?: object, token?: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
    if (token) {
        headers.authorization = `Bearer ${token}`;
    }

    const response = await fetch(`${base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
