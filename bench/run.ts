/**
 * npm run bench [-- --db sqlite|postgres|mysql --duration 10 --connections 50 --only goods,orders]
 *
 * Starts the app (simulator mounted) in a child process on a fresh database, runs each scenario beside its
 * baseline measured in the same run, and prints the machine and a markdown table with the ratios.
 */
import './threadpool';      // first: sizes libuv's thread pool before anything uses it

import { createSequelize } from '../lib/db';
import { initModels } from '../models';
import { startApp } from './app';
import { databaseVersion, freshDatabase } from './database';
import { rawDriver } from './driver';
import { parseOptions, ScenarioName, UsageError } from './options';
import { details, machine, table, verdictOf } from './report';
import { goodsScenario } from './scenarios/goods';
import { loginScenario } from './scenarios/login';
import { merchantOrdersScenario } from './scenarios/merchant-orders';
import { notifyScenario } from './scenarios/notify';
import { notifyV3Scenario } from './scenarios/notify-v3';
import { ordersScenario } from './scenarios/orders';
import { webhooksScenario } from './scenarios/webhooks';
import { refundScenario } from './scenarios/refund';
import type { BenchContext, ScenarioResult } from './scenarios/types';

const scenarios: Record<ScenarioName, (context: BenchContext) => Promise<ScenarioResult>> = {
    goods: goodsScenario,
    login: loginScenario,
    orders: ordersScenario,
    notify: notifyScenario,
    'merchant-orders': merchantOrdersScenario,
    refund: refundScenario,
    webhooks: webhooksScenario,
    'notify-v3': notifyV3Scenario
};

async function main(): Promise<number> {
    const options = parseOptions(process.argv.slice(2), process.env);

    // Everything is bounded: a run that hangs is killed with its app.
    const boundSeconds = 120 + options.only.length * (4 * options.duration + 2 * options.warmup + 180);
    const watchdog = setTimeout(() => {
        console.error(`bench: still running after ${boundSeconds} s, giving up`);
        process.exit(2);
    }, boundSeconds * 1000);
    watchdog.unref();

    const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
    log(`db ${options.db}, ${options.connections} connections, ${options.duration} s per run (+${options.warmup} s warm-up), scenarios: ${options.only.join(', ')}`);

    const database = await freshDatabase(options);
    const app = await startApp(database.url, options.profileDir).catch((err) => {
        database.cleanup();
        throw err;
    });
    const sequelize = createSequelize(database.url, { poolMax: 5 });
    initModels(sequelize);
    log(`app pid ${app.pid} at ${app.base}, bare hapi at ${app.bare}`);

    const results: ScenarioResult[] = [];
    const failed: string[] = [];
    try {
        const context: BenchContext = {
            options,
            app,
            driver: rawDriver(database.url),
            merchant: { appId: app.env.WECHAT_APPID!, mchId: app.env.WECHATPAY_MCHID!, apiKey: app.env.WECHATPAY_KEY! },
            log
        };
        for (const name of options.only) {
            try {
                const result = await scenarios[name](context);
                results.push(result);
                log(`${name}: ${result.app.rps.toFixed(0)} req/s, ratio ${(verdictOf(result).ratio * 100).toFixed(1)}%`);
            }
            catch (err) {
                failed.push(name);
                log(`${name} failed: ${(err as Error).stack}`);
            }
        }

        console.log('');
        console.log(`wxshop benchmarks: ${options.db}, ${options.connections} connections, ${options.duration} s per run`);
        for (const line of machine(await databaseVersion(sequelize))) {
            console.log(`- ${line}`);
        }

        console.log('');
        console.log(table(results).join('\n'));
        console.log('');
        console.log(details(results).join('\n'));
    }
    finally {
        await app.stop();
        await sequelize.close();
        database.cleanup();
    }

    const invalid = results.filter((result) => result.app.problems.length || result.baseline.problems.length);
    if (failed.length) {
        console.log(`\nscenarios that could not run: ${failed.join(', ')}`);
    }

    return invalid.length || failed.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
    console.error(err instanceof UsageError ? err.message : err);
    process.exit(err instanceof UsageError ? 64 : 1);
});
