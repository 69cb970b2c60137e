/**
 * Several instances on one PostgreSQL database (issue 4): one standalone WeChat simulator, three app instances
 * with their background jobs running (JOBS=true, every 50 ms), and the same signed payment notification sent to
 * all three at once, many times, while orders expire and the reconciler asks WeChat about the rest.
 *
 *   node -r ts-node/register/transpile-only scripts/instances.ts
 *   INSTANCES_POSTGRES_URL=postgres://user@host:5432/db   (default postgres://postgres@127.0.0.1:5432/wx_d)
 *   INSTANCES_RESET=true                                  (drop every table of that database first; default false)
 *
 * It applies the migrations once (by default nothing is dropped: it creates its own shop, goods, users and orders,
 * and only checks those), then checks that every order made exactly one transition, that stock is exact, and that no job
 * acted twice on a row: the instances reach the simulator through a counting HTTP proxy started here, so every
 * closeorder and orderquery call is counted per out_trade_no and per instance. Prints PASS or FAIL for each
 * check and exits 0 only when all pass; bounded in time, and every child process is killed on every path.
 */
import * as Crypto from 'crypto';
import * as Http from 'http';

import { signV2 } from '../lib/wechatpay/sign';
import { parseFlatXml, toXml } from '../lib/wechatpay/xml';
import {
    appEnv, call, checkConsistency, Child, Credentials, Database, freePort, killAll, limited, loginUser, notifySuccessReply,
    randomCredentials, signedNotification, sleep, spawnApp, spawnSimulator, User, waitFor
} from '../test/process/harness';

const databaseUrl = process.env.INSTANCES_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/wx_d';
const reset = process.env.INSTANCES_RESET === 'true' || process.env.INSTANCES_RESET === '1';
const deadlineMs = 115_000;
const instanceCount = 3;
const notifyRounds = 4;
const waves = 3;

// ---------------------------------------------------------------------------------------------------------------
// Every WeChat Pay call the instances make, counted on its way to the simulator.

interface PayCall {
    instance: number;
    endpoint: string;
    outTradeNo: string;
    answer: string;
}

/** Forwards /i<n>/<path> to the simulator's /<path>, recording Pay v2 calls with the instance that made them. */
async function countingProxy(simBase: string): Promise<{ base: (instance: number) => string; calls: PayCall[]; stop: () => Promise<void> }> {
    const calls: PayCall[] = [];
    const target = new URL(simBase);
    const server = Http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
            const body = Buffer.concat(chunks);
            const match = /^\/i(\d+)(\/.*)$/.exec(request.url ?? '');
            if (!match) {
                response.writeHead(404).end();
                return;
            }

            const [, instance, path] = match;
            const upstream = Http.request({
                host: target.hostname,
                port: target.port,
                method: request.method,
                path,
                headers: { ...request.headers, host: target.host },
                agent: false
            }, (answer) => {
                const answerChunks: Buffer[] = [];
                answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
                answer.on('end', () => {
                    const answerBody = Buffer.concat(answerChunks);
                    if (path.startsWith('/pay/')) {
                        void record(Number(instance), path.slice('/pay/'.length), body, answerBody);
                    }

                    response.writeHead(answer.statusCode ?? 502, answer.headers);
                    response.end(answerBody);
                });
            });
            upstream.on('error', (err) => {
                response.writeHead(502).end(err.message);
            });
            upstream.end(body);
        });
    });

    const record = async (instance: number, endpoint: string, body: Buffer, answer: Buffer) => {
        try {
            const fields = await parseFlatXml(body);
            let outcome = 'unreadable';
            try {
                const answered = await parseFlatXml(answer);
                outcome = answered.result_code === 'SUCCESS' ? (answered.trade_state ?? 'SUCCESS') : (answered.err_code ?? answered.return_msg ?? 'FAIL');
            }
            catch { }

            calls.push({ instance, endpoint, outTradeNo: fields.out_trade_no ?? '', answer: outcome });
        }
        catch {
            calls.push({ instance, endpoint, outTradeNo: '', answer: 'request not XML' });
        }
    };

    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    return {
        base: (instance) => `http://127.0.0.1:${port}/i${instance}`,
        calls,
        stop: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        })
    };
}

// ---------------------------------------------------------------------------------------------------------------

interface Placed {
    id: number;
    outTradeNo: string;
    totalFee: number;
    user: User;
    instance: number;
    prepayId?: string;
    /** The wx.requestPayment parameters the pay call answered: the simulated phone checks their paySign. */
    payParams?: Record<string, string>;
    transactionId?: string;
}

type Group = 'paid' | 'paidExpired' | 'expired' | 'expiredNoPrepay' | 'unpaid';

/** What each group is, and the one status each of its orders must end in. */
const groups: Record<Group, { count: number; prepay: boolean; pay: boolean; expire: boolean; final: string; what: string }> = {
    paid: { count: 45, prepay: true, pay: true, expire: false, final: 'paid', what: 'paid at WeChat, notification lost' },
    paidExpired: { count: 45, prepay: true, pay: true, expire: true, final: 'paid', what: 'paid at WeChat, notification lost, and past its expiry here' },
    expired: { count: 45, prepay: true, pay: false, expire: true, final: 'closed', what: 'never paid, past its expiry' },
    expiredNoPrepay: { count: 15, prepay: false, pay: false, expire: true, final: 'closed', what: 'never sent to WeChat, past its expiry' },
    unpaid: { count: 15, prepay: true, pay: false, expire: false, final: 'unpaid', what: 'never paid, not due' }
};

const results: Array<{ ok: boolean; name: string; detail: string }> = [];

function check(ok: boolean, name: string, detail = ''): void {
    results.push({ ok, name, detail });
}

function tally<T>(items: T[], key: (item: T) => string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const item of items) {
        counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
    }

    return counts;
}

async function run(): Promise<void> {
    const started = Date.now();
    const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
    const credentials: Credentials = randomCredentials();
    const db = new Database(databaseUrl);
    const instances: Child[] = [];
    let proxy: Awaited<ReturnType<typeof countingProxy>> | undefined;
    try {
        if (db.dialect !== 'postgres') {
            throw new Error(`INSTANCES_POSTGRES_URL must be a postgres:// URL (got ${databaseUrl.replace(/\/\/[^@]*@/, '//***@')})`);
        }

        if (reset) {
            log('INSTANCES_RESET: dropping every table of the database');
            await db.sequelize.getQueryInterface().dropAllTables();
        }

        log(`database ${databaseUrl.replace(/\/\/[^@]*@/, '//***@')}: applying migrations once`);
        await db.migrate().catch((err: Error) => {
            throw new Error(`the migrations do not apply to this database (${err.message}); give a fresh database, or INSTANCES_RESET=true to drop its tables first`);
        });
        const runTag = Crypto.randomBytes(4).toString('hex');
        const { goodsIds } = await db.createCatalogue(`instances-${runTag}`, Array.from({ length: 6 }, (_, index) => ({ price: 199 + 101 * index, stock: 1000 })));
        const initialStock = await db.stock(goodsIds);

        const simulator = await spawnSimulator(credentials, await freePort());
        proxy = await countingProxy(simulator.base);
        const ports = await Promise.all(Array.from({ length: instanceCount }, () => freePort()));
        instances.push(...await Promise.all(ports.map((port, index) => spawnApp(`app${index + 1}`, appEnv(credentials, {
            port,
            databaseUrl,
            simBase: proxy!.base(index + 1),
            jobs: true,
            jobsIntervalMs: 50,
            logLevel: 'warn'
        }), 60_000))));
        log(`simulator at ${simulator.base}, instances at ${instances.map((app) => app.base).join(', ')}`);

        // Users and orders, spread over the instances.
        const users: User[] = [];
        for (let i = 0; i < 6; ++i) {
            users.push(await loginUser(instances[i % instanceCount].base, simulator.base));
        }

        const plan = (Object.keys(groups) as Group[]).flatMap((group) => Array.from({ length: groups[group].count }, () => group));
        const placed = await limited(12, plan.map((group, index) => async (): Promise<Placed & { group: Group }> => {
            const instance = index % instanceCount;
            const user = users[index % users.length];
            const count = 1 + (index % 3);
            const goodsList = [{ goodsId: goodsIds[index % goodsIds.length], count }, { goodsId: goodsIds[(index + 2) % goodsIds.length], count: 1 }];
            const res = await call(instances[instance].base, 'POST', '/orders', { headers: user.auth, json: { goodsList } });
            if (res.status !== 201) {
                throw new Error(`POST /orders on instance ${instance + 1}: ${res.status} ${res.error ?? res.body}`);
            }

            const order: Placed & { group: Group } = { id: res.json.id, outTradeNo: res.json.outTradeNo, totalFee: res.json.totalFee, user, instance, group };
            if (groups[group].prepay) {
                const paying = instances[(instance + 1) % instanceCount];
                const pay = await call(paying.base, 'POST', `/orders/${order.id}/pay`, { headers: user.auth, json: {} });
                if (pay.status !== 200) {
                    throw new Error(`POST /orders/${order.id}/pay: ${pay.status} ${pay.error ?? pay.body}`);
                }

                order.prepayId = (pay.json.package as string).slice('prepay_id='.length);
                order.payParams = pay.json;
            }

            return order;
        }));
        log(`${placed.length} orders placed (${[...tally(placed, (order) => `app${order.instance + 1}`)].map(([name, n]) => `${name}: ${n}`).join(', ')})`);

        // The users pay; WeChat's own notifications of those payments are all lost.
        const paying = placed.filter((order) => groups[order.group].pay);
        const dropped = await call(simulator.base, 'POST', '/__sim/notify-faults', { json: { mode: 'drop', times: paying.length } });
        if (dropped.status !== 204) {
            throw new Error(`notify-faults: ${dropped.status} ${dropped.body}`);
        }

        for (const order of paying) {
            const res = await call(simulator.base, 'POST', '/__sim/pay', { json: { prepayId: order.prepayId, ...order.payParams } });
            if (res.status !== 200) {
                throw new Error(`/__sim/pay: ${res.status} ${res.body}`);
            }

            order.transactionId = res.json.transactionId;
        }

        // WeChat refuses closeorder within 5 minutes of unifiedorder: the simulator's clock moves past that once, and
        // each wave's expiring orders are marked sent that long ago (the instances run on their own clocks).
        const moved = await call(simulator.base, 'POST', '/__sim/clock', { json: { advanceMs: 6 * 60_000 } });
        if (moved.status !== 200) {
            throw new Error(`/__sim/clock: ${moved.status} ${moved.body}`);
        }

        // In three waves, a third of every group each: at once, its orders fall due (expiry, and the reconciler's
        // next look) and every paid order's signed notification goes to all three instances, four times each.
        const ids = placed.map((order) => order.id);
        const replies: Awaited<ReturnType<typeof call>>[] = [];
        let finalOk = true;
        for (let wave = 0; wave < waves; ++wave) {
            const members = placed.filter((order, index) => index % waves === wave);
            const messages = members.filter((order) => order.transactionId).flatMap((order) => {
                const xml = signedNotification(credentials, { outTradeNo: order.outTradeNo, totalFee: order.totalFee, transactionId: order.transactionId!, openid: order.user.openid });
                return Array.from({ length: notifyRounds * instanceCount }, (_, copy) => ({ order, xml, instance: copy % instanceCount }));
            }).sort(() => Math.random() - 0.5);
            const past = new Date(Date.now() - 60_000);
            const expiring = members.filter((order) => groups[order.group].expire).map((order) => order.id);
            await db.exec('UPDATE orders SET expires_at = :past WHERE id IN (:expiring)', { past, expiring });
            await db.exec('UPDATE orders SET sent_to_wechat_at = :sent WHERE id IN (:expiring) AND sent_to_wechat_at IS NOT NULL', { sent: new Date(Date.now() - 6 * 60_000), expiring });
            await db.exec('UPDATE orders SET next_reconcile_at = :past WHERE id IN (:ids) AND prepay_id IS NOT NULL', { past, ids: members.map((order) => order.id) });
            // The notifications land while the jobs of all three instances are busy with the rows just due.
            await sleep(75);
            const storm = limited(48, messages.map((message) => () => call(instances[message.instance].base, 'POST', '/orders/pay/notify', { body: message.xml, timeoutMs: 10_000 })));
            log(`wave ${wave + 1}: ${expiring.length} orders due to expire; ${messages.length} notifications in flight for ${messages.length / (notifyRounds * instanceCount)} paid orders`);
            replies.push(...await storm);

            // Every order of the wave reaches its one final status before the next wave.
            finalOk = await waitFor(async () => {
                const statuses = await db.statuses(members.map((order) => order.id));
                return members.every((order) => statuses.get(order.id) === groups[order.group].final);
            }, `every order of wave ${wave + 1} to reach its final status`, 20_000, 100).catch(() => false) && finalOk;
        }

        const refused = replies.filter((reply) => reply.status !== 200 || reply.body !== notifySuccessReply);
        check(refused.length === 0, `every one of the ${replies.length} notifications was acknowledged with the success XML`,
            refused.length ? `${refused.length} were not: ${JSON.stringify([...tally(refused, (reply) => `${reply.status} ${reply.error ?? reply.body.slice(0, 120)}`)])}` : '');

        // A moment more, so that a late second action on a row is seen too.
        await sleep(1500);
        log('settled; stopping the instances');
        const exits = await Promise.all(instances.map(async (app) => {
            app.kill('SIGTERM');
            return Promise.race([app.exited, sleep(15_000).then(() => undefined)]);
        }));
        check(exits.every((exit) => exit?.code === 0), 'the three instances stop cleanly on SIGTERM (exit 0)', JSON.stringify(exits));

        // 1. Each order made exactly one transition, to the status its story calls for.
        const statuses = await db.statuses(ids);
        const wrongStatus = placed.filter((order) => statuses.get(order.id) !== groups[order.group].final);
        check(Boolean(finalOk) && wrongStatus.length === 0, 'every order ended in exactly the status its story calls for',
            wrongStatus.slice(0, 10).map((order) => `order ${order.id} (${order.group}) is ${statuses.get(order.id)}`).join('; '));
        for (const group of Object.keys(groups) as Group[]) {
            const members = placed.filter((order) => order.group === group);
            log(`  ${group}: ${members.length} orders ${groups[group].what} -> ${[...tally(members, (order) => statuses.get(order.id) ?? 'missing')].map(([status, n]) => `${n} ${status}`).join(', ')}`);
        }

        // 2. Stock exact, one applied payment per paid order, nothing half-written.
        const problems = await checkConsistency(db, { initialStock, userIds: users.map((user) => user.userId) });
        check(problems.length === 0, 'stock is exact for every goods and every paid order has exactly one applied payment', problems.slice(0, 10).join('; '));
        const payments = await db.rows<{ order_id: number; transaction_id: string; source: string; outcome: string }>(
            'SELECT order_id, transaction_id, source, outcome FROM payments WHERE order_id IN (:ids)', { ids });
        const paymentsOf = tally(payments, (payment) => String(payment.order_id));
        const wrongPayments = placed.filter((order) => {
            const expected = order.transactionId ? 1 : 0;
            const mine = payments.filter((payment) => Number(payment.order_id) === order.id);
            return (paymentsOf.get(String(order.id)) ?? 0) !== expected || mine.some((payment) => payment.transaction_id !== order.transactionId || payment.outcome !== 'applied');
        });
        check(wrongPayments.length === 0, `exactly one payments row per paid order, with WeChat's transaction_id (${payments.length} rows: ${[...tally(payments, (payment) => payment.source)].map(([source, n]) => `${n} by ${source}`).join(', ')})`,
            wrongPayments.slice(0, 10).map((order) => `order ${order.id} (${order.group}) has ${paymentsOf.get(String(order.id)) ?? 0} payments`).join('; '));

        // 3. No job acted twice on a row, counted at WeChat's door.
        const calls = proxy.calls;
        const closes = tally(calls.filter((entry) => entry.endpoint === 'closeorder'), (entry) => entry.outTradeNo);
        // Before the user paid, a reconciler look (10 s after the prepay) legitimately answers NOTPAY; once WeChat
        // answers SUCCESS the order is settled, so a second SUCCESS answer means a job asked about it twice.
        const queries = tally(calls.filter((entry) => entry.endpoint === 'orderquery' && entry.answer === 'SUCCESS'), (entry) => entry.outTradeNo);
        const closeProblems = placed.flatMap((order) => {
            const n = closes.get(order.outTradeNo) ?? 0;
            const expected = order.group === 'expired' ? [1] : order.group === 'paidExpired' ? [0, 1] : [0];
            if (expected.includes(n)) {
                return [];
            }

            const who = calls.filter((entry) => entry.endpoint === 'closeorder' && entry.outTradeNo === order.outTradeNo).map((entry) => `app${entry.instance}:${entry.answer}`);
            return [`order ${order.id} (${order.group}): ${n} closeorder calls [${who.join(' ')}]`];
        });
        check(closeProblems.length === 0, 'closeorder was called once per expired order and never twice for one order',
            `${closeProblems.length} orders: ${closeProblems.slice(0, 8).join('; ')}`);
        const queryProblems = placed.filter((order) => order.group === 'paid' && (queries.get(order.outTradeNo) ?? 0) > 1).map((order) => {
            const who = calls.filter((entry) => entry.endpoint === 'orderquery' && entry.outTradeNo === order.outTradeNo).map((entry) => `app${entry.instance}:${entry.answer}`);
            return `order ${order.id}: ${who.length} orderquery calls [${who.join(' ')}]`;
        });
        check(queryProblems.length === 0, 'the reconciler asked WeChat at most once about each paid order once it was paid (one answer settles it)',
            `${queryProblems.length} orders: ${queryProblems.slice(0, 8).join('; ')}`);
        log(`WeChat Pay calls by instance: ${[...tally(calls, (entry) => `app${entry.instance} ${entry.endpoint}`)].sort().map(([name, n]) => `${name} ${n}`).join(', ')}`);

        // 4. WeChat agrees: the expired orders are closed there, so nobody can pay them any more.
        const notClosed: string[] = [];
        for (const order of placed.filter((entry) => entry.group === 'expired')) {
            const fields: Record<string, string> = { appid: credentials.appId, mch_id: credentials.mchId, out_trade_no: order.outTradeNo, nonce_str: Crypto.randomBytes(8).toString('hex') };
            fields.sign = signV2(fields, credentials.apiKey, 'MD5');
            const res = await call(simulator.base, 'POST', '/pay/orderquery', { body: toXml(fields) });
            const state = (await parseFlatXml(res.body).catch(() => ({} as Record<string, string>))).trade_state;
            if (state !== 'CLOSED') {
                notClosed.push(`${order.outTradeNo}: ${state}`);
            }
        }

        check(notClosed.length === 0, 'every expired order is CLOSED at WeChat too', notClosed.slice(0, 5).join('; '));

        const warnings = instances.flatMap((app) => app.output().split('\n').filter((line) => /will retry|failed/.test(line)));
        if (warnings.length) {
            log(`${warnings.length} job warnings in the instances' logs, e.g. ${warnings[0].slice(0, 300)}`);
        }
    }
    finally {
        await proxy?.stop().catch(() => undefined);
        await killAll();
        await db.close().catch(() => undefined);
    }
}

async function main(): Promise<number> {
    const deadline = setTimeout(() => {
        console.log(`\nFAIL: not done within ${deadlineMs / 1000} s`);
        void killAll().finally(() => process.exit(1));
    }, deadlineMs);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
            console.log(`\nFAIL: interrupted (${signal})`);
            void killAll().finally(() => process.exit(1));
        });
    }

    try {
        await run();
    }
    catch (err) {
        check(false, 'the run completed', (err as Error).stack ?? String(err));
    }
    finally {
        clearTimeout(deadline);
    }

    console.log('\nseveral instances on one PostgreSQL database:');
    for (const result of results) {
        console.log(`  ${result.ok ? 'PASS' : 'FAIL'}  ${result.name}${result.ok || !result.detail ? '' : `\n        ${result.detail}`}`);
    }

    const failed = results.filter((result) => !result.ok).length;
    console.log(failed ? `\nFAIL: ${failed} of ${results.length} checks failed` : `\nPASS: all ${results.length} checks passed`);
    return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
    console.error(err);
    void killAll().finally(() => process.exit(1));
});
