/**
 * GET /merchant/orders?status=paid (the first page of 20, newest first, with the lines and the count) over a few
 * thousand orders made in bulk beforehand, against the same three statements on the bare driver. No target set.
 */
import { merchantOrdersQueries } from '../baselines';
import { benchOpenids, createCatalogue, createUser } from '../fixtures';
import { http } from '../load';
import { createOrderHistory, staffAuthorization } from '../merchant-fixtures';
import { BenchContext, checkWarmup, ScenarioResult } from './types';

const orderCount = 3000;

export async function merchantOrdersScenario(context: BenchContext): Promise<ScenarioResult> {
    const { app, options, driver } = context;
    context.log(`merchant-orders: ${orderCount} orders in bulk and a logged-in operator`);
    const { goods: [goods] } = await createCatalogue(1, 1_000_000);
    await createOrderHistory(await createUser(benchOpenids(1, 'Mo')[0]), orderCount, `MO${Date.now().toString(36)}`, goods);
    const authorization = await staffAuthorization(app, 'operator');

    const list = (duration: number) => http({
        label: 'app GET /merchant/orders?status=paid',
        url: `${app.base}/merchant/orders?status=paid`,
        connections: options.connections,
        duration,
        headers: { authorization },
        expectStatus: 200,
        serverPid: app.pid,
        verifyBody: (body) => body.startsWith('{"results":[{"id":') && /"totalCount":\d{4,}}$/.test(body)
    });
    const direct = (duration: number) => merchantOrdersQueries(driver, { connections: options.connections, duration });

    if (options.warmup) {
        context.log('merchant-orders: warming up');
        checkWarmup(context, 'merchant-orders (driver)', await direct(options.warmup));
        checkWarmup(context, 'merchant-orders', await list(options.warmup));
    }

    context.log('merchant-orders: measuring the driver, then the app');
    const baseline = await direct(options.duration);
    const measured = await app.profiled('merchant-orders', () => list(options.duration));
    return { name: 'merchant-orders', app: measured, baseline, notes: [`${orderCount} orders of which a third paid, one line each; the first page of 20 paid ones`] };
}
