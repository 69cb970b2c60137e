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
    appEnv, call, checkConsistency, Child, connectionRefused, Credentials, Database, freePort, killAll, killUnderLoad, limited, loginUser,
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

    /**
     * A COMMIT the killed process had already written to its socket is still carried out by a database server
     * after the process is gone; give the server a moment before reading what the crash left.
     */
    const settle = () => sleep(dialect === 'sqlite' ? 0 : 500);

    const failWith = (child: Child | undefined, message: string) => new Error(`${message}\n--- app output ---\n${child?.output() ?? ''}`);

    it('SIGKILL in the middle of order creation: the database is consistent, and after a restart expiry closes what was due', { timeout: 240_000 }, async () => {
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
            const victim = app;
            const { inFlightAtKill, lostAnswers, unexpected } = await killUnderLoad(victim, { count: 32, maxRounds: 500, killNow: () => created.length >= 60 }, async (worker) => {
                const user = users[worker % users.length];
                const reply = await call(base, 'POST', '/orders', { headers: user.auth, json: { goodsList: randomLines(goodsIds) } });
                if (reply.status === 201) {
                    created.push(reply.json.id);
                    ownerOf.set(reply.json.id, user);
                }

                return { reply, succeeded: reply.status === 201 };
            });

            const status = await victim.exited;
            await settle();
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
            }, `the ${due.length} expired orders to be closed`, 90_000, 100).catch((err) => {
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

    it('SIGKILL in the middle of notify handling: every acknowledged payment is committed once, and after a restart the jobs apply the rest and expire the due', { timeout: 240_000 }, async () => {
        const { url, db, goodsIds, initialStock } = await prepare(4);
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

            // 40 orders with a prepay at WeChat; the users pay 30 of them, and WeChat's own notifications are lost.
            const orders = await limited(8, Array.from({ length: 40 }, (_, index) => async () => {
                const user = users[index % users.length];
                const created = await call(base, 'POST', '/orders', { headers: user.auth, json: { goodsList: randomLines(goodsIds) } });
                expect(created.status, created.body).to.equal(201);
                const paid = await call(base, 'POST', `/orders/${created.json.id}/pay`, { headers: user.auth, json: {} });
                expect(paid.status, paid.body).to.equal(200);
                return { id: created.json.id as number, outTradeNo: created.json.outTradeNo as string, totalFee: created.json.totalFee as number, user, prepayId: (paid.json.package as string).slice('prepay_id='.length), params: paid.json };
            }));
            const paying = orders.slice(0, 30);
            const expiring = orders.slice(30);
            expect((await call(simBase, 'POST', '/__sim/notify-faults', { json: { mode: 'drop', times: paying.length } })).status).to.equal(204);
            const transactionOf = new Map<number, string>();
            for (const order of paying) {
                const res = await call(simBase, 'POST', '/__sim/pay', { json: { prepayId: order.prepayId, ...order.params } });
                expect(res.status, res.body).to.equal(200);
                transactionOf.set(order.id, res.json.transactionId);
            }

            // Each payment's signed notification three times, shuffled, 24 at once; the process dies after 20 acks.
            const messages = paying.flatMap((order) => {
                const xml = signedNotification(credentials, { outTradeNo: order.outTradeNo, totalFee: order.totalFee, transactionId: transactionOf.get(order.id)!, openid: order.user.openid });
                return [xml, xml, xml].map((body) => ({ order, body }));
            }).sort(() => Math.random() - 0.5);
            const acknowledged = new Set<number>();
            let next = 0;
            const victim = app;
            const { inFlightAtKill, lostAnswers, unexpected } = await killUnderLoad(victim, {
                count: 24, maxRounds: messages.length, killNow: () => acknowledged.size >= 12, exhausted: () => next >= messages.length
            }, async () => {
                const message = messages[next++];
                const reply = await call(base, 'POST', '/orders/pay/notify', { body: message.body });
                const succeeded = reply.status === 200 && reply.body === notifySuccessReply;
                if (succeeded) {
                    acknowledged.add(message.order.id);
                }

                return { reply, succeeded };
            });

            expect((await victim.exited).signal).to.equal('SIGKILL');
            await settle();
            expect(unexpected).to.equal([]);
            expect(inFlightAtKill, 'notifications in flight when the process was killed').to.be.above(10);
            expect(lostAnswers, 'notifications that never got their answer').to.be.above(0);

            // The success reply is sent only after the commit: every acknowledged payment is in the database.
            const statuses = await db.statuses(orders.map((order) => order.id));
            expect([...acknowledged].filter((id) => statuses.get(id) !== 'paid')).to.equal([]);
            expect(await checkConsistency(db, { initialStock })).to.equal([]);
            const unpaidAtRestart = paying.filter((order) => statuses.get(order.id) === 'unpaid');
            note(`notify: killed with ${inFlightAtKill} in flight, ${acknowledged.size} orders acknowledged, ${paying.length - unpaidAtRestart.length} paid, ${lostAnswers} answers lost`);
            expect(unpaidAtRestart.length, 'payments the kill left unapplied').to.be.above(0);

            // Due now: asking WeChat about every unpaid order with a prepay, and the expiry of the 10 never paid.
            await db.exec("UPDATE orders SET next_reconcile_at = :past WHERE status = 'unpaid' AND prepay_id IS NOT NULL", { past: new Date(Date.now() - 1000) });
            await db.exec('UPDATE orders SET expires_at = :past WHERE id IN (:ids)', { past: new Date(Date.now() - 60_000), ids: expiring.map((order) => order.id) });
            // Both sides 6 minutes on, so WeChat's 5-minute close window has passed for them: the simulator's clock,
            // and the app's view of when the orders were sent (it runs in another process, on its own clock).
            await db.exec('UPDATE orders SET sent_to_wechat_at = :past WHERE id IN (:ids)', { past: new Date(Date.now() - 6 * 60_000), ids: expiring.map((order) => order.id) });
            simulator.sandbox.clock.advance(6 * 60_000);

            app = await spawnApp('app (restarted)', { ...env, JOBS: 'true', JOBS_INTERVAL_MS: '50' });
            await waitFor(async () => {
                const now = await db.statuses(orders.map((order) => order.id));
                return paying.every((order) => now.get(order.id) === 'paid') && expiring.every((order) => now.get(order.id) === 'closed');
            }, 'the reconciler to apply every payment and the expiry job to close the rest', 90_000, 100).catch((err) => {
                throw failWith(app, err.message);
            });

            expect(await checkConsistency(db, { initialStock })).to.equal([]);
            const payments = await db.rows<{ order_id: number; transaction_id: string; source: string }>(
                'SELECT order_id, transaction_id, source FROM payments WHERE order_id IN (:ids)', { ids: orders.map((order) => order.id) });
            expect(payments.length).to.equal(paying.length);
            for (const payment of payments) {
                expect(payment.transaction_id).to.equal(transactionOf.get(Number(payment.order_id))!);
            }

            // Exactly the payments the kill left unapplied were found by the reconciler; the others came by notify.
            const byQuery = payments.filter((payment) => payment.source === 'query').map((payment) => Number(payment.order_id)).sort((a, b) => a - b);
            expect(byQuery).to.equal(unpaidAtRestart.map((order) => order.id).sort((a, b) => a - b));

            // The expired orders were closed at WeChat too: nobody can pay them any more.
            for (const order of expiring) {
                expect(simulator.sandbox.trades.find(order.outTradeNo)!.state).to.equal('CLOSED');
            }
        }
        finally {
            await killAll();
            await db.close();
        }
    });

    it('SIGTERM drains the request in flight: it gets its answer, new connections are refused, the process exits 0', { timeout: 180_000 }, async () => {
        const { url, db, goodsIds } = await prepare(1);
        try {
            // WeChat takes 6 s to answer unifiedorder (inside the app's 10 s drain); the app waits up to 20 s for it. The
            // long hold leaves a loaded machine seconds to refuse new connections while the request is still held.
            // Port 0: the app picks its own (a port chosen here first could be taken by another process meanwhile).
            const app = await spawnApp('app', appEnv(credentials, { port: 0, databaseUrl: url, simBase, jobs: true, jobsIntervalMs: 50, payTimeoutMs: 20_000 }));
            const port = app.port;
            const user = await loginUser(app.base, simBase);
            const order = await call(app.base, 'POST', '/orders', { headers: user.auth, json: { goodsList: [{ goodsId: goodsIds[0], count: 2 }] } });
            expect(order.status, order.body).to.equal(201);
            expect((await call(simBase, 'POST', '/__sim/faults', { json: { endpoint: 'unifiedorder', kind: 'timeout', delayMs: 6000 } })).status).to.equal(204);

            const held = simulator.sandbox.waits.pending;
            const paying = call(app.base, 'POST', `/orders/${order.json.id}/pay`, { headers: user.auth, json: {}, timeoutMs: 30_000 });
            let answered = false;
            void paying.then(() => {
                answered = true;
            });

            // Once WeChat holds the unifiedorder call, the process is asked to stop.
            await waitFor(() => simulator.sandbox.waits.pending > held, 'the simulator to hold unifiedorder', 5000, 10);
            const signalled = Date.now();
            app.kill('SIGTERM');

            // It stops accepting at once, while the held request is still being served.
            await waitFor(() => connectionRefused(port, 500), 'new connections to be refused', 5000, 20);
            expect(answered, 'the in-flight request was still pending when new connections were refused').to.be.false();
            expect(app.alive).to.be.true();

            const res = await paying;
            expect(res.status, res.error ?? res.body).to.equal(200);
            expect(String(res.json.package)).to.startWith('prepay_id=');
            expect(res.json.paySign).to.be.a.string();
            expect(Date.now() - signalled, 'the answer came after the signal, once WeChat answered').to.be.at.least(1000);

            const exit = await Promise.race([app.exited, sleep(10_000).then(() => undefined)]);
            expect(exit, 'the process exits within its 10 s drain').to.exist();
            expect(exit).to.equal({ code: 0, signal: null });
            expect(await connectionRefused(port)).to.be.true();

            // The drained request's work was committed before the database connection closed.
            const [row] = await db.rows<{ prepay_id: string | null }>('SELECT prepay_id FROM orders WHERE id = :id', { id: order.json.id });
            expect(`prepay_id=${row.prepay_id}`).to.equal(res.json.package);
        }
        finally {
            await killAll();
            await db.close();
        }
    });

    // A database server can go away while the process lives on; an embedded SQLite file cannot in any honest way
    // (the process keeps its open descriptors, root ignores file modes, and sequelize recreates a vanished
    // directory with an empty database in it), so this runs on the PostgreSQL and MariaDB passes only.
    if (dialect !== 'sqlite') {
        it('the database goes away: requests fail fast with 503, /ready says so, nothing is half-written, and service resumes by itself', { timeout: 240_000 }, async () => {
            const { url, db, shopId, goodsIds, initialStock } = await prepare(3);
            const proxy = new TcpProxy(TcpProxy.targetOf(url));
            try {
                await proxy.start();
                const port = await freePort();
                const app = await spawnApp('app', appEnv(credentials, { port, databaseUrl: TcpProxy.through(url, proxy.port), simBase, jobs: true, jobsIntervalMs: 50, logLevel: 'error' }));
                const base = app.base;
                const user = await loginUser(base, simBase);
                const before = await call(base, 'POST', '/orders', { headers: user.auth, json: { goodsList: [{ goodsId: goodsIds[0], count: 1 }] } });
                expect(before.status, before.body).to.equal(201);
                const notification = signedNotification(credentials, { outTradeNo: before.json.outTradeNo, totalFee: before.json.totalFee, transactionId: `4200${Date.now()}${Crypto.randomInt(1e9)}`.slice(0, 28), openid: user.openid });

                // Orders in flight when the database goes: each answered, 201 or 503, none left hanging. The client waits
                // 15 s, three times lib/db.ts's 5 s database timeouts: on a loaded machine these answers took up to 4.5 s.
                const created: number[] = [];
                const cutAnswers: Array<{ status: number; ms: number; what: string }> = [];
                const inFlightAnswers: Array<{ status: number; ms: number; body: string }> = [];
                let cut = false;
                await workers(16, 200, () => cut, async () => {
                    const res = await call(base, 'POST', '/orders', { headers: user.auth, json: { goodsList: randomLines(goodsIds) }, timeoutMs: 15_000 });
                    if (res.status === 201) {
                        created.push(res.json.id);
                    }

                    if (cut) {
                        inFlightAnswers.push({ status: res.status, ms: res.ms, body: res.error ?? res.body });
                    }
                    else if (res.status !== 201) {
                        throw new Error(`before the cut: ${res.status} ${res.error ?? res.body}`);
                    }
                    else if (created.length >= 30) {
                        cut = true;
                        await proxy.cut();
                    }
                });
                // The requests that were in flight at the cut have all come back by now (workers awaits them).
                const outage = Date.now();
                note(`database away: ${created.length} orders answered 201, in flight at the cut: ${JSON.stringify(inFlightAnswers.map(({ status, ms }) => `${status} ${ms}ms`))}`);
                expect(inFlightAnswers.length, 'requests in flight when the database went').to.be.above(5);
                // Checked last, so that a wrong status here does not hide what the rest of the test shows.
                const wrong = inFlightAnswers.filter((answer) => answer.status !== 201 && answer.status !== 503);
                const inFlightProblem = wrong.length
                    ? `${wrong.length} of ${inFlightAnswers.length} requests in flight when the database went were answered ${[...new Set(wrong.map((answer) => answer.status))].join(', ')} instead of 503 (or 201):\n`
                        // The app's own account of those failures (its error log lines) makes the failure actionable.
                        + app.output().split('\n').filter((line) => /"err"/.test(line)).slice(0, 2).map((line) => line.slice(0, 1200)).join('\n')
                    : undefined;
                expect(inFlightAnswers.every((answer) => answer.status !== 0), 'every in-flight request answered within the client\'s 15 s').to.be.true();


                const probe = async (what: string, method: string, path: string, options: Parameters<typeof call>[3] = {}) => {
                    const res = await call(base, method, path, { timeoutMs: 5000, ...options });
                    cutAnswers.push({ status: res.status, ms: res.ms, what });
                    return res;
                };

                // While it is away: liveness holds, readiness and everything needing the database answer 503 fast.
                expect((await probe('health', 'GET', '/health')).status).to.equal(200);
                for (let round = 0; round < 3; ++round) {
                    const ready = await probe('ready', 'GET', '/ready');
                    expect(ready.status, ready.error ?? ready.body).to.equal(503);
                    const order = await probe('order', 'POST', '/orders', { headers: user.auth, json: { goodsList: [{ goodsId: goodsIds[1], count: 1 }] } });
                    expect(order.status, order.error ?? order.body).to.equal(503);
                    expect(order.json.statusCode).to.equal(503);
                    expect(order.headers['retry-after']).to.exist();
                    const goods = await probe('goods', 'GET', `/shops/${shopId}/goods`);
                    expect(goods.status, goods.error ?? goods.body).to.equal(503);
                    const read = await probe('read order', 'GET', `/orders/${before.json.id}`, { headers: user.auth });
                    expect(read.status, read.error ?? read.body).to.equal(503);
                    const notify = await probe('notify', 'POST', '/orders/pay/notify', { body: notification });
                    expect(notify.status, notify.error ?? notify.body).to.equal(503);
                    expect(notify.body).to.not.equal(notifySuccessReply);
                    const minted = await call(simBase, 'POST', '/__sim/login-codes', { json: {} });
                    const login = await probe('login', 'POST', '/users/login', { json: { code: minted.json.code } });
                    expect(login.status, login.error ?? login.body).to.equal(503);
                }

                note(`database away: answers ${JSON.stringify(cutAnswers.map(({ what, status, ms }) => `${what} ${status} ${ms}ms`))}`);
                // Fast means not waiting out lib/db.ts's 5 s connect and acquire timeouts; half of them holds on a loaded machine.
                const slowest = Math.max(...cutAnswers.map((answer) => answer.ms));
                expect(slowest, 'the slowest answer while the database was away (ms)').to.be.below(2500);
                expect(app.alive).to.be.true();

                // Back: the service resumes by itself.
                await proxy.restore();
                const back = Date.now();
                await waitFor(async () => (await call(base, 'GET', '/ready')).status === 200, '/ready to answer 200 again', 15_000, 100)
                    .catch((err) => {
                        throw failWith(app, err.message);
                    });
                note(`database away for ${back - outage} ms; ready again ${Date.now() - back} ms after it came back`);
                const after = await call(base, 'POST', '/orders', { headers: user.auth, json: { goodsList: [{ goodsId: goodsIds[2], count: 2 }] } });
                expect(after.status, after.body).to.equal(201);
                created.push(after.json.id);
                const paid = await call(base, 'POST', '/orders/pay/notify', { body: notification });
                expect(paid.body).to.equal(notifySuccessReply);

                // Nothing half-written: every answered order is there with its lines, stock adds up, one payment.
                const statuses = await db.statuses([before.json.id, ...created]);
                expect(statuses.size).to.equal(created.length + 1);
                expect(statuses.get(before.json.id)).to.equal('paid');
                expect(await checkConsistency(db, { initialStock })).to.equal([]);
                expect(wrong.map((answer) => answer.status), inFlightProblem).to.equal([]);
            }
            finally {
                await killAll();
                await proxy.cut();
                await db.close();
            }
        });
    }
});
