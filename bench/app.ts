import * as ChildProcess from 'child_process';
import * as Fs from 'fs';
import * as Path from 'path';

import { ThrowawayCa } from '../lib/tls/throwaway-ca';
import { testEnv } from '../test/helpers';
import { v3Env } from '../test/v3-app';
import type { ControlMessage, ReadyMessage } from './server';

export interface BenchApp {
    /** The app's base URL, e.g. http://127.0.0.1:41234 */
    base: string;
    /** The bare hapi server's base URL (routes GET and POST /bare). */
    bare: string;
    env: Record<string, string | undefined>;
    pid: number;
    /** Runs `measure`, with a CPU profile of the app process written to <profileDir>/<name>.cpuprofile if asked for. */
    profiled<T>(name: string, measure: () => Promise<T>): Promise<T>;
    stop(): Promise<void>;
}

/**
 * Forks the compiled bench/server.ts with credentials generated at random for this run (as the tests do), the simulator mounted,
 * LOG_LEVEL=warn, responses not re-validated (as in production), no background jobs and rate limits out of the way (they would turn load into 429s).
 */
export async function startApp(databaseUrl: string, profileDir?: string): Promise<BenchApp> {
    const env = testEnv({
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'warn',
        JOBS: 'false',
        RESPONSE_VALIDATION: 'false',
        DATABASE_POOL_MAX: process.env.DATABASE_POOL_MAX ?? '10',
        GOODS_CACHE_MS: process.env.GOODS_CACHE_MS ?? '1000',           // the production default (the tests turn it off)
        WECHAT_TIMEOUT_MS: '5000',
        WECHATPAY_TIMEOUT_MS: '5000',
        RATE_LIMIT_LOGIN: '1000000000',
        RATE_LIMIT_ORDERS: '1000000000',
        MAX_OPEN_ORDERS_PER_USER: '1000000',           // a bench user holds thousands of unpaid orders
        MAX_OPEN_UNITS_PER_USER: '1000000000',
        // v3 material in public-key mode beside the v2 key, new payments kept on v2: the notify-v3 scenario signs with it.
        ...v3Env('publicKey'),
        WECHATPAY_API_VERSION: 'v2'
    });
    // The merchant API certificate the refund scenario's mutual TLS needs (a throwaway one, as demo mode makes).
    const merchantCertificate = ThrowawayCa.create('wxshop bench CA').issueMerchant(env.WECHATPAY_MCHID!);
    env.WECHATPAY_CERT = merchantCertificate.cert;
    env.WECHATPAY_CERT_KEY = merchantCertificate.key;

    // The compiled app (npm run build), as production runs it: under ts-node, source-map support alone costs a
    // tenth of the CPU of a database-backed route (sequelize captures a stack trace per query).
    const compiled = Path.join(__dirname, '..', 'dist', 'bench', 'server.js');
    if (!Fs.existsSync(compiled)) {
        throw new Error(`${compiled} is missing: run npm run build first (npm run bench does)`);
    }

    const child = ChildProcess.fork(compiled, [], {
        execArgv: [],
        env: { ...process.env, NODE_ENV: 'test' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    });
    const send = (message: ControlMessage) => child.send(message);
    const reply = <T>(type: string, what: string, timeoutMs: number) => new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the app did not ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
        const onMessage = (message: { type: string }) => {
            if (message.type === type) {
                clearTimeout(timer);
                child.off('message', onMessage);
                resolve(message as T);
            }
        };
        child.on('message', onMessage);
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the app exited with code ${code}`));
        });
    });

    const started = reply<ReadyMessage>('ready', 'start', 60_000);
    send({ type: 'start', env });
    let ready: ReadyMessage;
    try {
        ready = await started;
    }
    catch (err) {
        child.kill('SIGKILL');
        throw err;
    }

    return {
        base: ready.app,
        bare: ready.bare,
        env,
        pid: child.pid!,
        async profiled(name, measure) {
            if (!profileDir) {
                return measure();
            }

            Fs.mkdirSync(profileDir, { recursive: true });
            const profiling = reply('profiling', 'start profiling', 10_000);
            send({ type: 'profile-start' });
            await profiling;
            try {
                return await measure();
            }
            finally {
                const written = reply('profiled', 'write its profile', 30_000);
                send({ type: 'profile-stop', file: Path.resolve(profileDir, `${name}.cpuprofile`) });
                await written;
            }
        },
        stop: () => new Promise<void>((resolve) => {
            if (child.exitCode !== null) {
                return resolve();
            }

            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
                clearTimeout(timer);
                resolve();
            });
            send({ type: 'stop' });
        })
    };
}
