/**
 * npm run bench:soak [-- --db sqlite|postgres --minutes 5 --connections 50]
 *
 * Keeps the app under load for some minutes (goods listings and orders, alternating in 10-second rounds) and
 * samples its resident memory after every round. RSS must be steady: after the first minute's warm-up, the last
 * minute's mean may not exceed the second minute's by more than 20%. Exits non-zero when it does.
 */
import './threadpool';

import * as Fs from 'fs';

import { createSequelize } from '../lib/db';
import { initModels } from '../models';
import { startApp } from './app';
import { freshDatabase } from './database';
import { benchOpenids, createCatalogue, loginUsers } from './fixtures';
import { http } from './load';
import { parseOptions } from './options';

function rssMiB(pid: number): number {
    const match = /VmRSS:\s+(\d+) kB/.exec(Fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const minutesAt = argv.indexOf('--minutes');
    const minutes = minutesAt >= 0 ? Number(argv.splice(minutesAt, 2)[1]) : 5;
    const options = parseOptions(argv, process.env);
    const watchdog = setTimeout(() => {
        console.error('soak: over time, giving up');
        process.exit(2);
    }, (minutes * 60 + 180) * 1000);
    watchdog.unref();

    const database = await freshDatabase(options);
    const app = await startApp(database.url);
    const sequelize = createSequelize(database.url, { poolMax: 2 });
    initModels(sequelize);
    try {
        const { shopId, goods } = await createCatalogue(20, 1_000_000_000);
        const users = await loginUsers(app, benchOpenids(8, 'So'));
        let turn = 0;
        const rounds = [
            () => http({ label: 'goods', url: `${app.base}/shops/${shopId}/goods`, connections: options.connections, duration: 10, expectStatus: 200, serverPid: app.pid }),
            () => http({
                label: 'orders',
                url: `${app.base}/orders`,
                connections: options.connections,
                duration: 10,
                method: 'POST',
                next: () => ({
                    method: 'POST',
                    path: '/orders',
                    headers: { 'content-type': 'application/json', authorization: `Bearer ${users[turn++ % users.length].token}` },
                    body: JSON.stringify({ goodsList: [{ goodsId: goods[turn % goods.length].id, count: 1 }] })
                }),
                expectStatus: 201,
                serverPid: app.pid
            })
        ];

        const started = Date.now();
        const samples: Array<{ second: number; rss: number; label: string; rps: number; errors: number }> = [];
        for (let round = 0; Date.now() - started < minutes * 60_000; ++round) {
            const measured = await rounds[round % rounds.length]();
            const sample = { second: Math.round((Date.now() - started) / 1000), rss: rssMiB(app.pid), label: measured.label, rps: Math.round(measured.rps), errors: measured.errors + measured.non2xx };
            samples.push(sample);
            console.log(`${String(sample.second).padStart(4)} s  RSS ${sample.rss.toFixed(1)} MiB  ${sample.label} ${sample.rps} req/s  errors ${sample.errors}`);
        }

        const inMinute = (from: number, to: number) => samples.filter((sample) => sample.second > from * 60 && sample.second <= to * 60).map((sample) => sample.rss);
        const second = mean(inMinute(1, 2));
        const last = mean(inMinute(minutes - 1, minutes));
        const growth = last / second - 1;
        const errors = samples.reduce((sum, sample) => sum + sample.errors, 0);
        const steady = growth <= 0.2 && errors === 0;
        console.log(`RSS mean: minute 2 ${second.toFixed(1)} MiB, last minute ${last.toFixed(1)} MiB (${(growth * 100).toFixed(1)}%); errors ${errors}: ${steady ? 'steady' : 'NOT steady'}`);
        return steady ? 0 : 1;
    }
    finally {
        await app.stop();
        await sequelize.close();
        database.cleanup();
    }
}

main().then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(1);
});
