/**
 * Faults of the process and its database, with the app as a real child process (`node -r
 * ts-node/register/transpile-only app.ts`, as `npm start` runs it) talking to the simulator on its own port:
 * SIGKILL in the middle of order creation and of notify handling, SIGTERM while a request is in flight, and the
 * database going away behind a TCP proxy (PostgreSQL and MariaDB passes).
 */
import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import type * as Hapi from '@hapi/hapi';
import * as Lab from '@hapi/lab';

import { startSandboxServer } from '../sandbox/server';
import type { Sandbox } from '../sandbox';
import { dialect, freshDatabaseUrl } from './helpers';
import {
    appEnv, call, checkConsistency, Child, connectionRefused, Credentials, Database, freePort, killAll, limited, loginUser,
    notifySuccessReply, randomCredentials, signedNotification, sleep, spawnApp, TcpProxy, User, waitFor, workers
} from './process/harness';

const { expect } = Code;
const { describe, it, before, after, afterEach } = exports.lab = Lab.script();

describe('process faults', () => {

    const credentials: Credentials = randomCredentials();
    let simulator: { server: Hapi.Server; sandbox: Sandbox };
    let simBase: string;

    before(async () => {
        simulator = await startSandboxServer({
            appId: credentials.appId,
            appSecret: credentials.appSecret,
            mchId: credentials.mchId,
            apiKey: credentials.apiKey
        });
        simBase = simulator.server.info.uri;
    });

    after(async () => {
        await killAll();
        await simulator?.server.stop({ timeout: 1000 });
    });

    // Whatever a test did, none of its app processes outlives it.
    afterEach(() => killAll());

    const tag = () => Crypto.randomBytes(4).toString('hex');

    /** Some distinct goods, 1 to 3 units each: a random order body. */
    const randomLines = (goodsIds: number[]) => {
        const picked = [...goodsIds].sort(() => Math.random() - 0.5).slice(0, 1 + Crypto.randomInt(Math.min(3, goodsIds.length)));
        return picked.map((goodsId) => ({ goodsId, count: 1 + Crypto.randomInt(3) }));
    };

    /** A fresh database of this pass with the schema applied and a catalogue of `goods` items. */
    const prepare = async (goods = 5, stock = 100_000) => {
        const url = await freshDatabaseUrl();
        const db = new Database(url);
        await db.migrate();
        const { shopId, goodsIds } = await db.createCatalogue(tag(), Array.from({ length: goods }, (_, index) => ({ price: 100 + 37 * index, stock })));
        const initialStock = await db.stock(goodsIds);
        return { url, db, shopId, goodsIds, initialStock };
    };

    /** PROCESS_FAULTS_VERBOSE=1 prints what each test measured. */
    const note = (message: string) => {
        if (process.env.PROCESS_FAULTS_VERBOSE) {
            console.log(`    [${dialect}] ${message}`);
        }
    };

    const failWith = (child: Child | undefined, message: string) => new Error(`${message}\n--- app output ---\n${child?.output() ?? ''}`);

    it('SIGKILL in the middle of order creation: the database is consistent, and after a restart expiry closes what was due', { timeout: 100_000 }, async () => {
        const { url, db, goodsIds, initialStock } = await prepare();
        let app: Child | undefined;
        try {
            const port = await freePort();
            const env = appEnv(credentials, { port, databaseUrl: url, simBase, jobs: false });
            app = await spawnApp('app', env);
            const base = app.base;
            const users: User[] = [];
            for (let i = 0; i < 4; ++i) {
                users.push(await loginUser(base, simBase));
            }

            // 32 clients keep POST /orders in flight; the process is killed once 60 orders were answered.
            const created: number[] = [];
            const ownerOf = new Map<number, User>();
            const unexpected: string[] = [];
            let killed = false;
            let inFlight = 0;
            let inFlightAtKill = 0;
            let lostAnswers = 0;
            const victim = app;
            await workers(32, 500, () => killed, async (worker) => {
                ++inFlight;
                const user = users[worker % users.length];
                const res = await call(base, 'POST', '/orders', { headers: user.auth, json: { goodsList: randomLines(goodsIds) } });
                --inFlight;
                if (res.status === 201) {
                    created.push(res.json.id);
                    ownerOf.set(res.json.id, user);
                    if (created.length >= 60 && !killed) {
                        killed = true;
                        inFlightAtKill = inFlight;
                        victim.kill('SIGKILL');
                    }
                }
                else if (res.status === 0 && killed) {
                    ++lostAnswers;
                }
                else {
                    unexpected.push(`${res.status} ${res.error ?? res.body}`);
                }
            });

            const status = await victim.exited;
            note(`order creation: killed with ${inFlightAtKill} requests in flight, ${created.length} answered 201, ${lostAnswers} answers lost`);
            expect(status.signal).to.equal('SIGKILL');
            expect(unexpected).to.equal([]);
            expect(inFlightAtKill, 'requests in flight when the process was killed').to.be.above(10);
            expect(lostAnswers, 'requests that never got their answer').to.be.above(0);

            // Every order that was answered 201 was committed with its lines; nothing else was half-written.
            const statuses = await db.statuses(created);
            expect(statuses.size).to.equal(created.length);
            expect([...statuses.values()].every((value) => value === 'unpaid')).to.be.true();
            expect(await checkConsistency(db, { initialStock })).to.equal([]);

            // Half of all the orders in the database (answered or not) are due to expire.
            const all = (await db.rows<{ id: number }>('SELECT id FROM orders ORDER BY id')).map((row) => Number(row.id));
            expect(all.length).to.be.at.least(created.length);
            note(`order creation: ${all.length} orders in the database after the kill`);
            const due = all.filter((_, index) => index % 2 === 0);
            const notDue = all.filter((_, index) => index % 2 === 1);
            await db.exec('UPDATE orders SET expires_at = :past WHERE id IN (:due)', { past: new Date(Date.now() - 60_000), due });

            // The restarted process's jobs close them and give their stock back.
            app = await spawnApp('app (restarted)', { ...env, JOBS: 'true', JOBS_INTERVAL_MS: '50' });
            await waitFor(async () => {
                const now = await db.statuses(due);
                return [...now.values()].every((value) => value === 'closed');
            }, `the ${due.length} expired orders to be closed`, 30_000, 100).catch((err) => {
                throw failWith(app, err.message);
            });

            const after = await db.statuses(all);
            expect(notDue.every((id) => after.get(id) === 'unpaid')).to.be.true();
            expect(await checkConsistency(db, { initialStock })).to.equal([]);
            const held = await db.rows<{ goods_id: number; units: number | string }>(
                "SELECT i.goods_id, SUM(i.count) AS units FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.status = 'unpaid' GROUP BY i.goods_id");
            const stock = await db.stock(goodsIds);
            for (const row of held) {
                expect(stock.get(Number(row.goods_id))).to.equal(initialStock.get(Number(row.goods_id))! - Number(row.units));
            }

            // And the restarted process serves them: an expired order reads as closed to its owner.
            const answeredDue = due.find((id) => ownerOf.has(id))!;
            const read = await call(app.base, 'GET', `/orders/${answeredDue}`, { headers: ownerOf.get(answeredDue)!.auth });
            expect(read.status).to.equal(200);
            expect(read.json.status).to.equal('closed');
        }
        finally {
            await killAll();
            await db.close();
        }
    });
});
