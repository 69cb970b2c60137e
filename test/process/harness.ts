/**
 * Process-level test harness: the app and the simulator as real child processes, a plain HTTP client that never
 * throws, a TCP proxy that can cut the database away, direct SQL on the app's database, and the consistency
 * checks every fault test ends with. Used by test/process-faults.test.ts and scripts/instances.ts.
 *
 * Every child started here is registered, killed by `killAll()`, and killed with SIGKILL when this process exits
 * whatever the path (a failed assertion, a timeout, an uncaught error).
 */
import * as ChildProcess from 'child_process';
import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Http from 'http';
import * as Net from 'net';
import * as Os from 'os';
import * as Path from 'path';

import { QueryTypes, Sequelize } from 'sequelize';

import { createSequelize, dialectOf, migrator } from '../../lib/db';
import { signV2 } from '../../lib/wechatpay/sign';
import { formatBeijingCompact } from '../../lib/wechatpay/time';
import { toXml } from '../../lib/wechatpay/xml';
import { eventually, sleep } from '../helpers';

export const projectRoot = Path.join(__dirname, '..', '..');

export { sleep };

/** Polls `check` until it answers something truthy; throws naming `what` after `timeoutMs`. */
export function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs: number, everyMs = 50): Promise<T> {
    return eventually(check, what, timeoutMs, everyMs);
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

export interface ExitStatus {
    code: number | null;
    signal: NodeJS.Signals | null;
}

export interface Child {
    name: string;
    pid: number;
    proc: ChildProcess.ChildProcess;
    /** The URI it printed when it started listening. */
    base: string;
    port: number;
    exited: Promise<ExitStatus>;
    readonly alive: boolean;
    /** The last lines of its stdout and stderr, for failure messages. */
    output(): string;
    kill(signal: NodeJS.Signals): void;
}

const live = new Set<ChildProcess.ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
    if (exitHookInstalled) {
        return;
    }

    exitHookInstalled = true;
    process.on('exit', () => {
        for (const proc of live) {
            try {
                proc.kill('SIGKILL');
            }
            catch { }
        }
    });
}

/** The variables a child inherits from this process; everything else it gets is explicit. */
function baseEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const name of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) {
        if (process.env[name] !== undefined) {
            env[name] = process.env[name];
        }
    }

    return env;
}

/**
 * Starts `node -r ts-node/register/transpile-only <script>` in the project root and resolves once it printed a
 * line matching `ready` (whose first group is its base URI). Rejects, killing it, if it exits or is not ready in time.
 */
export function spawnNode(name: string, script: string, env: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 90_000): Promise<Child> {
    installExitHook();
    const proc = ChildProcess.spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script], {
        cwd: projectRoot,
        env: { ...baseEnv(), ...env },
        stdio: ['ignore', 'pipe', 'pipe']
    });
    live.add(proc);

    const lines: string[] = [];
    const keep = (stream: string) => (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) {
            if (line.trim()) {
                lines.push(`[${name} ${stream}] ${line}`);
            }
        }

        if (lines.length > 400) {
            lines.splice(0, lines.length - 400);
        }
    };
    proc.stdout!.on('data', keep('out'));
    proc.stderr!.on('data', keep('err'));

    let alive = true;
    const exited = new Promise<ExitStatus>((resolve) => {
        proc.once('exit', (code, signal) => {
            alive = false;
            live.delete(proc);
            resolve({ code, signal });
        });
    });

    return new Promise<Child>((resolve, reject) => {
        let buffered = '';
        let settled = false;
        const timer = setTimeout(() => fail(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs);
        const fail = (err: Error) => {
            if (settled) {
                return;
            }

            settled = true;
            clearTimeout(timer);
            proc.stdout!.off('data', onData);
            if (alive) {
                proc.kill('SIGKILL');
            }

            reject(new Error(`${err.message}\n${lines.join('\n')}`));
        };

        const onData = (chunk: Buffer) => {
            buffered += chunk.toString('utf8');
            const match = ready.exec(buffered);
            if (!match) {
                return;
            }

            settled = true;
            clearTimeout(timer);
            proc.stdout!.off('data', onData);
            const base = match[1];
            resolve({
                name,
                pid: proc.pid!,
                proc,
                base,
                port: Number(new URL(base).port),
                exited,
                get alive() {
                    return alive;
                },
                output: () => lines.join('\n'),
                kill: (signal) => {
                    if (alive) {
                        proc.kill(signal);
                    }
                }
            });
        };

        proc.stdout!.on('data', onData);
        void exited.then((status) => fail(new Error(`${name} exited before it was ready (code ${status.code}, signal ${status.signal})`)));
    });
}

/** SIGKILLs every child still running that this harness started, and waits (bounded) for them to be gone. */
export async function killAll(): Promise<void> {
    const waiting = [...live].map((proc) => new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
            return resolve();
        }

        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
    }));
    await Promise.race([Promise.all(waiting), sleep(5000)]);
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = Net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address() as Net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Resolves true when a TCP connection to the port is refused, false when one is accepted. */
export function connectionRefused(port: number, timeoutMs = 2000): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = Net.connect({ host: '127.0.0.1', port });
        const timer = setTimeout(() => {
            socket.destroy();
            resolve(false);
        }, timeoutMs);
        socket.once('connect', () => {
            clearTimeout(timer);
            socket.destroy();
            resolve(false);
        });
        socket.once('error', (err: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            resolve(err.code === 'ECONNREFUSED');
        });
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Credentials and the app's environment

export interface Credentials {
    appId: string;
    appSecret: string;
    mchId: string;
    apiKey: string;
    jwtSecret: string;
}

/** Random per run, never literals (as testEnv() in test/helpers.ts). */
export function randomCredentials(): Credentials {
    return {
        appId: `wx${Crypto.randomBytes(8).toString('hex')}`,
        appSecret: Crypto.randomBytes(16).toString('hex'),
        mchId: String(1900000000 + Crypto.randomInt(99999999)),
        apiKey: Crypto.randomBytes(16).toString('hex'),
        jwtSecret: Crypto.randomBytes(32).toString('hex')
    };
}

export interface AppOptions {
    port: number;
    databaseUrl: string;
    /** Base URL of the simulator (WECHAT_API_BASE); `payApiBase` defaults to it. */
    simBase: string;
    payApiBase?: string;
    jobs?: boolean;
    jobsIntervalMs?: number;
    payTimeoutMs?: number;
    logLevel?: string;
    extra?: Record<string, string>;
}

/**
 * The environment of an app instance that talks to a separate simulator (SANDBOX unset: the simulator is not
 * mounted and nothing is migrated by the app) and receives WeChat's notifications on its own port.
 */
export function appEnv(credentials: Credentials, options: AppOptions): NodeJS.ProcessEnv {
    return {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(options.port),
        DATABASE_URL: options.databaseUrl,
        WECHAT_APPID: credentials.appId,
        WECHAT_SECRET: credentials.appSecret,
        WECHATPAY_MCHID: credentials.mchId,
        WECHATPAY_KEY: credentials.apiKey,
        JWT_SECRET: credentials.jwtSecret,
        WECHAT_API_BASE: options.simBase,
        WECHATPAY_API_BASE: options.payApiBase ?? options.simBase,
        WECHATPAY_NOTIFY_URL: `http://127.0.0.1:${options.port}/orders/pay/notify`,
        WECHAT_TIMEOUT_MS: '3000',
        WECHATPAY_TIMEOUT_MS: String(options.payTimeoutMs ?? 3000),
        JOBS: options.jobs ? 'true' : 'false',
        JOBS_INTERVAL_MS: String(options.jobsIntervalMs ?? 50),
        RATE_LIMIT_LOGIN: '1000000',
        RATE_LIMIT_ORDERS: '1000000',
        MAX_OPEN_ORDERS_PER_USER: '1000000',
        MAX_OPEN_UNITS_PER_USER: '1000000000',
        LOG_LEVEL: options.logLevel ?? 'silent',
        DATA_DIR: Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-proc-')),
        ...options.extra
    };
}

/** `npm start` on a port, as a child process; resolves once it listens. */
export function spawnApp(name: string, env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Child> {
    return spawnNode(name, 'app.ts', env, /listening on (http:\/\/[^\s]+)/, timeoutMs);
}

/** `npm run sandbox` as a child process; resolves once it listens. */
export function spawnSimulator(credentials: Credentials, port: number, timeoutMs = 90_000): Promise<Child> {
    return spawnNode('simulator', 'sandbox/server.ts', {
        WECHAT_APPID: credentials.appId,
        WECHAT_SECRET: credentials.appSecret,
        WECHATPAY_MCHID: credentials.mchId,
        WECHATPAY_KEY: credentials.apiKey,
        SANDBOX_PORT: String(port),
        HOST: '127.0.0.1',
        // Plain HTTP: these checks count calls through an HTTP proxy; the mutual-TLS path has its own test (refund-tls).
        SANDBOX_TLS: 'false'
    }, /WeChat simulator listening on (http:\/\/[^\s]+)/, timeoutMs);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
    /** 0 when no HTTP answer came (`error` says why). */
    status: number;
    body: string;
    json: any;
    headers: Http.IncomingHttpHeaders;
    ms: number;
    error?: string;
    code?: string;
}

export interface CallOptions {
    headers?: Record<string, string>;
    json?: unknown;
    body?: string;
    contentType?: string;
    /** The client's own patience (default 15 s, ample on a loaded machine); a reply that takes longer is a failure with code 'CLIENT_TIMEOUT'. */
    timeoutMs?: number;
    /** Default: a fresh connection per request (no keep-alive socket survives a killed server). */
    agent?: Http.Agent | false;
}

/** One HTTP request that never rejects: a refused connection, a reset or a timeout come back as status 0. */
export function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const started = Date.now();
    const body = options.json !== undefined ? JSON.stringify(options.json) : options.body;
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) {
        headers['content-type'] = options.contentType ?? (options.json !== undefined ? 'application/json' : 'text/xml');
        headers['content-length'] = String(Buffer.byteLength(body));
    }

    return new Promise<Reply>((resolve) => {
        let done = false;
        const finish = (reply: Omit<Reply, 'ms'>) => {
            if (!done) {
                done = true;
                resolve({ ...reply, ms: Date.now() - started });
            }
        };

        const request = Http.request(`${base}${path}`, { method, headers, agent: options.agent ?? false }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', (err: NodeJS.ErrnoException) => finish({ status: 0, body: '', json: undefined, headers: {}, error: err.message, code: err.code }));
            response.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let json: any;
                try {
                    json = JSON.parse(text);
                }
                catch { }

                finish({ status: response.statusCode ?? 0, body: text, json, headers: response.headers });
            });
        });
        request.setTimeout(options.timeoutMs ?? 15_000, () => {
            finish({ status: 0, body: '', json: undefined, headers: {}, error: `no reply within ${options.timeoutMs ?? 15_000} ms`, code: 'CLIENT_TIMEOUT' });
            request.destroy();
        });
        request.on('error', (err: NodeJS.ErrnoException) => finish({ status: 0, body: '', json: undefined, headers: {}, error: err.message, code: err.code }));
        request.end(body);
    });
}

export interface User {
    userId: number;
    openid: string;
    auth: { authorization: string };
}

/** wx.login() at the simulator, then POST /users/login at the app. */
export async function loginUser(appBase: string, simBase: string, openid?: string): Promise<User> {
    const minted = await call(simBase, 'POST', '/__sim/login-codes', { json: openid ? { openid } : {} });
    if (minted.status !== 200) {
        throw new Error(`login-codes: ${minted.status} ${minted.error ?? minted.body}`);
    }

    const res = await call(appBase, 'POST', '/users/login', { json: { code: minted.json.code } });
    if (res.status !== 200) {
        throw new Error(`login: ${res.status} ${res.error ?? res.body}`);
    }

    return { userId: res.json.user.id, openid: minted.json.openid, auth: { authorization: `Bearer ${res.json.token}` } };
}

/** Runs `count` workers concurrently, each calling `work(worker, round)` until `stop()` says so or `maxRounds`. */
export async function workers(count: number, maxRounds: number, stop: () => boolean, work: (worker: number, round: number) => Promise<void>): Promise<void> {
    await Promise.all(Array.from({ length: count }, async (_, worker) => {
        for (let round = 0; round < maxRounds && !stop(); ++round) {
            await work(worker, round);
        }
    }));
}

export interface KilledUnderLoad {
    inFlightAtKill: number;
    /** Requests that got no answer because the process died under them. */
    lostAnswers: number;
    /** Every other failed answer, as "status error-or-body". */
    unexpected: string[];
}

/**
 * Keeps `count` workers sending (`send` tells whether its answer succeeded) and SIGKILLs `victim` once `killNow()`
 * holds after a success; then the workers stop. Counts what was in flight at the kill and the answers lost to it.
 */
export async function killUnderLoad(
    victim: Child,
    options: { count: number; maxRounds: number; killNow: () => boolean; exhausted?: () => boolean },
    send: (worker: number) => Promise<{ reply: Reply; succeeded: boolean }>
): Promise<KilledUnderLoad> {
    const result: KilledUnderLoad = { inFlightAtKill: 0, lostAnswers: 0, unexpected: [] };
    let killed = false;
    let inFlight = 0;
    await workers(options.count, options.maxRounds, () => killed || (options.exhausted?.() ?? false), async (worker) => {
        ++inFlight;
        const { reply, succeeded } = await send(worker);
        --inFlight;
        if (succeeded) {
            if (!killed && options.killNow()) {
                killed = true;
                result.inFlightAtKill = inFlight;
                victim.kill('SIGKILL');
            }
        }
        else if (reply.status === 0 && killed) {
            ++result.lostAnswers;
        }
        else {
            result.unexpected.push(`${reply.status} ${reply.error ?? reply.body}`);
        }
    });
    return result;
}

/** Runs the tasks with at most `limit` in flight at once. */
export async function limited<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
    const results: T[] = new Array(tasks.length);
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, async () => {
        while (next < tasks.length) {
            const index = next++;
            results[index] = await tasks[index]();
        }
    }));
    return results;
}

// ---------------------------------------------------------------------------------------------------------------
// WeChat Pay notifications

export interface PaidTradeFacts {
    outTradeNo: string;
    totalFee: number;
    transactionId: string;
    openid: string;
    paidAt?: Date;
}

/** A payment notification exactly as WeChat sends it (reference §2.7), signed with the merchant's key. */
export function signedNotification(credentials: Credentials, trade: PaidTradeFacts): string {
    const fields: Record<string, string | number> = {
        appid: credentials.appId,
        bank_type: 'OTHERS',
        cash_fee: trade.totalFee,
        fee_type: 'CNY',
        is_subscribe: 'N',
        mch_id: credentials.mchId,
        nonce_str: Crypto.randomBytes(16).toString('hex'),
        openid: trade.openid,
        out_trade_no: trade.outTradeNo,
        result_code: 'SUCCESS',
        return_code: 'SUCCESS',
        time_end: formatBeijingCompact(trade.paidAt ?? new Date()),
        total_fee: trade.totalFee,
        trade_type: 'JSAPI',
        transaction_id: trade.transactionId
    };
    fields.sign = signV2(fields, credentials.apiKey, 'MD5');
    return toXml(fields);
}

export const notifySuccessReply = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

// ---------------------------------------------------------------------------------------------------------------
// The database, directly

/** SQL on the app's database from outside the app: migrations, catalogue, fixing clocks, and assertions. */
export class Database {
    readonly sequelize: Sequelize;
    readonly dialect: ReturnType<typeof dialectOf>;

    constructor(readonly url: string) {
        this.dialect = dialectOf(url);
        this.sequelize = createSequelize(url, { poolMax: 4 });
    }

    async migrate(): Promise<void> {
        await migrator(this.sequelize).up();
    }

    rows<T = Record<string, any>>(sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
        return this.sequelize.query(sql, { replacements, type: QueryTypes.SELECT }) as Promise<T[]>;
    }

    async exec(sql: string, replacements: Record<string, unknown> = {}): Promise<void> {
        await this.sequelize.query(sql, { replacements });
    }

    async count(sql: string, replacements: Record<string, unknown> = {}): Promise<number> {
        const [row] = await this.rows<{ n: number | string }>(sql, replacements);
        return Number(row.n);
    }

    /** A shop with the given goods; answers their ids, in the order given. */
    async createCatalogue(tag: string, goods: Array<{ price: number; stock: number }>): Promise<{ shopId: number; goodsIds: number[] }> {
        const now = new Date();
        const queryInterface = this.sequelize.getQueryInterface();
        const name = `proc-${tag}`.slice(0, 64);
        await queryInterface.bulkInsert('shops', [{ name, description: 'process fault tests', logo_url: null, created_at: now, updated_at: now }]);
        const [{ id: shopId }] = await this.rows<{ id: number }>('SELECT id FROM shops WHERE name = :name ORDER BY id DESC', { name });
        await queryInterface.bulkInsert('goods', goods.map((item, index) => ({
            shop_id: shopId,
            name: `${name} goods ${index + 1}`,
            thumb_url: null,
            price: item.price,
            stock: item.stock,
            created_at: now,
            updated_at: now
        })));
        const rows = await this.rows<{ id: number }>('SELECT id FROM goods WHERE shop_id = :shopId ORDER BY id', { shopId });
        return { shopId: Number(shopId), goodsIds: rows.map((row) => Number(row.id)) };
    }

    async stock(goodsIds: number[]): Promise<Map<number, number>> {
        const rows = await this.rows<{ id: number; stock: number }>('SELECT id, stock FROM goods WHERE id IN (:goodsIds)', { goodsIds });
        return new Map(rows.map((row) => [Number(row.id), Number(row.stock)]));
    }

    async statuses(orderIds: number[]): Promise<Map<number, string>> {
        if (!orderIds.length) {
            return new Map();
        }

        const rows = await this.rows<{ id: number; status: string }>('SELECT id, status FROM orders WHERE id IN (:orderIds)', { orderIds });
        return new Map(rows.map((row) => [Number(row.id), row.status]));
    }

    close(): Promise<void> {
        return this.sequelize.close();
    }
}

export interface ConsistencyScope {
    /** Every goods the run created, with its stock before the first order. */
    initialStock: Map<number, number>;
    /** Only look at these users' orders (default: every order in the database). */
    userIds?: number[];
}

/**
 * Everything that must hold after any crash, outage or race, as a list of problems (empty when consistent):
 *  - for each goods, initial stock = current stock + units in orders that are not closed;
 *  - every order has its lines, and its total is the sum of its lines;
 *  - every paid order has exactly one payments row, outcome applied, with the order's transaction_id and amount;
 *  - an unpaid order has no payment; a closed order has a closed_at, and a payment only if flagged for refund;
 *  - no payment and no order line without its order.
 */
export async function checkConsistency(db: Database, scope: ConsistencyScope): Promise<string[]> {
    const problems: string[] = [];
    const goodsIds = [...scope.initialStock.keys()];

    const held = await db.rows<{ goods_id: number; units: number | string | null }>(`
        SELECT i.goods_id, SUM(i.count) AS units
        FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE i.goods_id IN (:goodsIds) AND o.status <> 'closed'
        GROUP BY i.goods_id`, { goodsIds });
    const heldBy = new Map(held.map((row) => [Number(row.goods_id), Number(row.units ?? 0)]));
    const stock = await db.stock(goodsIds);
    for (const [goodsId, initial] of scope.initialStock) {
        const current = stock.get(goodsId);
        const units = heldBy.get(goodsId) ?? 0;
        if (current === undefined || current + units !== initial) {
            problems.push(`goods ${goodsId}: initial stock ${initial} != current ${current} + ${units} units in orders not closed`);
        }
    }

    const userFilter = scope.userIds ? 'WHERE o.user_id IN (:userIds)' : '';
    const replacements = { userIds: scope.userIds ?? [] };
    const orders = await db.rows<{ id: number; status: string; total_fee: number; transaction_id: string | null; paid_at: unknown; closed_at: unknown; refund_required: unknown }>(
        `SELECT o.id, o.status, o.total_fee, o.transaction_id, o.paid_at, o.closed_at, o.refund_required FROM orders o ${userFilter}`, replacements);
    const lines = await db.rows<{ order_id: number; n: number | string; total: number | string }>(
        `SELECT i.order_id, COUNT(*) AS n, SUM(i.price * i.count) AS total FROM order_items i JOIN orders o ON o.id = i.order_id ${userFilter} GROUP BY i.order_id`, replacements);
    const linesOf = new Map(lines.map((row) => [Number(row.order_id), { n: Number(row.n), total: Number(row.total) }]));
    const payments = await db.rows<{ order_id: number; transaction_id: string; outcome: string; total_fee: number }>(
        `SELECT p.order_id, p.transaction_id, p.outcome, p.total_fee FROM payments p JOIN orders o ON o.id = p.order_id ${userFilter}`, replacements);
    const paymentsOf = new Map<number, typeof payments>();
    for (const payment of payments) {
        const list = paymentsOf.get(Number(payment.order_id)) ?? [];
        list.push(payment);
        paymentsOf.set(Number(payment.order_id), list);
    }

    for (const order of orders) {
        const id = Number(order.id);
        const own = paymentsOf.get(id) ?? [];
        const orderLines = linesOf.get(id);
        if (!orderLines) {
            problems.push(`order ${id} (${order.status}) has no lines`);
        }
        else if (orderLines.total !== Number(order.total_fee)) {
            problems.push(`order ${id}: total_fee ${order.total_fee} != sum of its lines ${orderLines.total}`);
        }

        if (order.status === 'paid') {
            const applied = own.filter((payment) => payment.outcome === 'applied');
            if (own.length !== 1 || applied.length !== 1) {
                problems.push(`paid order ${id} has ${own.length} payments (${applied.length} applied), expected exactly one applied`);
            }
            else if (applied[0].transaction_id !== order.transaction_id || Number(applied[0].total_fee) !== Number(order.total_fee)) {
                problems.push(`paid order ${id}: payment ${applied[0].transaction_id}/${applied[0].total_fee} != order ${order.transaction_id}/${order.total_fee}`);
            }

            if (!order.paid_at || !order.transaction_id) {
                problems.push(`paid order ${id} lacks paid_at or transaction_id`);
            }
        }
        else if (order.status === 'unpaid') {
            if (own.length) {
                problems.push(`unpaid order ${id} has ${own.length} payments`);
            }

            if (order.transaction_id) {
                problems.push(`unpaid order ${id} has transaction_id ${order.transaction_id}`);
            }
        }
        else if (order.status === 'closed') {
            if (!order.closed_at) {
                problems.push(`closed order ${id} has no closed_at`);
            }

            const flagged = Boolean(Number(order.refund_required));
            if (own.some((payment) => payment.outcome !== 'refund_required') || (own.length > 0) !== flagged) {
                problems.push(`closed order ${id}: payments ${JSON.stringify(own.map((payment) => payment.outcome))} with refund_required=${flagged}`);
            }
        }
        else {
            problems.push(`order ${id} has unexpected status ${order.status}`);
        }
    }

    const orphanPayments = await db.count('SELECT COUNT(*) AS n FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE o.id IS NULL');
    if (orphanPayments) {
        problems.push(`${orphanPayments} payments without their order`);
    }

    const orphanLines = await db.count('SELECT COUNT(*) AS n FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL');
    if (orphanLines) {
        problems.push(`${orphanLines} order lines without their order`);
    }

    return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// A TCP proxy between the app and its database

/**
 * Forwards 127.0.0.1:<port> to the database. `cut()` drops every connection and stops listening, so new
 * connections are refused (as when a database host goes down); `restore()` listens on the same port again.
 */
export class TcpProxy {
    private server: Net.Server | undefined;
    private readonly sockets = new Set<Net.Socket>();
    port = 0;
    accepted = 0;

    constructor(private readonly target: { host: string; port: number }) {}

    async start(port = 0): Promise<number> {
        const server = Net.createServer((client) => {
            ++this.accepted;
            const upstream = Net.connect(this.target);
            this.sockets.add(client);
            this.sockets.add(upstream);
            const drop = () => {
                client.destroy();
                upstream.destroy();
                this.sockets.delete(client);
                this.sockets.delete(upstream);
            };
            client.on('error', drop);
            upstream.on('error', drop);
            client.on('close', drop);
            upstream.on('close', drop);
            client.pipe(upstream);
            upstream.pipe(client);
        });
        await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(port, '127.0.0.1', () => resolve());
        });
        this.server = server;
        this.port = (server.address() as Net.AddressInfo).port;
        return this.port;
    }

    get open(): number {
        return this.sockets.size / 2;
    }

    async cut(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
        for (const socket of this.sockets) {
            socket.destroy();
        }

        this.sockets.clear();
        await closed;
    }

    restore(): Promise<number> {
        return this.start(this.port);
    }

    /** The database URL with its host and port replaced by this proxy's. */
    static through(url: string, port: number): string {
        const parsed = new URL(url);
        parsed.hostname = '127.0.0.1';
        parsed.port = String(port);
        return parsed.toString();
    }

    static targetOf(url: string): { host: string; port: number } {
        const parsed = new URL(url);
        const fallback = parsed.protocol.startsWith('postgres') ? 5432 : 3306;
        return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || fallback) };
    }
}
