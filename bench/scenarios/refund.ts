/**
 * POST /merchant/orders/{id}/refunds: each request a 1-fen refund of its own paid order (paid for real through the
 * app and the simulated phone beforehand, so the simulator holds each trade), by a finance staff member; each one
 * writes the refund and calls the simulator's /secapi/pay/refund over mutual TLS before answering. The simulator's
 * refund spacing is turned off by name (one refund per order makes it moot, but it is not what is measured).
 *
 * Baseline: the bare hapi POST route with a body of the same shape, not the refund's SQL on the driver: most of a
 * refund's time is the synchronous call to WeChat (a TLS handshake and the simulator's work, in the app's own
 * process), which a driver baseline would leave out, so a ratio against it would say little about our code.
 * No target set. Afterwards the refunds written must number the 201s.
 */
import * as Crypto from 'crypto';

import { Op } from 'sequelize';

import { Refund } from '../../models';
import { bareRoute } from '../baselines';
import { benchOpenids, loginUsers, postJson, settledCount } from '../fixtures';
import { http, Measurement, Pool } from '../load';
import { createPaidOrders, staffAuthorization } from '../merchant-fixtures';
import { BenchContext, calibrationSize, checkWarmup, ScenarioResult, withEnoughInputs } from './types';

const body = JSON.stringify({ amount: 1, reason: 'bench refund' });

export async function refundScenario(context: BenchContext): Promise<ScenarioResult> {
    const { app, options } = context;
    const settings = await postJson(`${app.base}/sandbox/__sim/settings`, { refundSpacingSeconds: 0 });
    if (settings.status !== 200 && settings.status !== 204) {
        throw new Error(`the simulator's settings: ${settings.status} ${JSON.stringify(settings.body)}`);
    }

    const authorization = await staffAuthorization(app, 'finance');
    const [buyer] = await loginUsers(app, benchOpenids(1, 'Rf'));
    const runTag = Crypto.randomBytes(3).toString('hex');
    const prepare = (tag: string, count: number) => createPaidOrders(app, buyer, count, tag);

    const refund = (orderIds: number[], run: { duration: number; amount?: number }) => {
        const pool = new Pool(orderIds);
        return http({
            label: 'app POST /merchant/orders/{id}/refunds',
            url: `${app.base}/merchant/orders`,
            connections: options.connections,
            ...run,
            method: 'POST',
            next: () => {
                const orderId = pool.take();
                return orderId === undefined ? undefined : {
                    method: 'POST', path: `/merchant/orders/${orderId}/refunds`, headers: { 'content-type': 'application/json', authorization }, body
                };
            },
            expectStatus: 201,
            serverPid: app.pid,
            verifyBody: (answer) => answer.includes('"status":"processing"')
        });
    };
    const bare = (duration: number) => bareRoute(app, { connections: options.connections, duration, method: 'POST', body });

    const calibration = calibrationSize(options.connections);
    context.log(`refund: warm-up and calibration with ${calibration} paid orders`);
    const warmApp = await refund(await prepare(`W${runTag}`, calibration + 2 * options.connections), { duration: options.duration, amount: calibration });
    checkWarmup(context, 'refund', warmApp);
    if (options.warmup) {
        checkWarmup(context, 'refund (bare route)', await bare(options.warmup));
    }

    context.log('refund: measuring the bare route, then the app');
    const baseline = await bare(options.duration);
    let orderIds: number[] = [];
    const measured = await withEnoughInputs(context, 'refund (app)', warmApp.rps, async (count, round) => {
        orderIds = await prepare(`M${runTag}${round}`, count);
        return app.profiled('refund', () => refund(orderIds, { duration: options.duration }));
    });
    const made = await settledCount(() => Refund.count({ where: { orderId: { [Op.in]: orderIds } } }));
    return { name: 'refund', app: measured, baseline, notes: [`1-fen refunds, each of its own paid order (${orderIds.length} paid for the measured run)`, check(measured, made, options.connections)] };
}

/** Every 201 is a refund written; requests abandoned in flight at the end may add up to `connections` more. */
function check(measured: Measurement, made: number, connections: number): string {
    const created = measured.statusCodes[201] ?? 0;
    if (made < created || made > created + connections) {
        measured.problems.push(`${created} refunds answered 201 but ${made} were written`);
    }

    return `checked: ${made} refunds written; ${created} answered 201 (+${made - created} abandoned in flight at the end)`;
}
