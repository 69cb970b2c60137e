/**
 * POST /orders/pay/notify: each request a distinct, correctly signed WeChat Pay v2 notification for its own unpaid
 * order (created in bulk beforehand), so every one is a real unpaid → paid transition. Against the same SQL on the
 * bare driver. Target: ≥ 60%. Afterwards every response must have been the success XML and the paid orders must
 * number the successes.
 */
import * as Crypto from 'crypto';

import { notifySuccessXml } from '../../routes/payments';
import { PaidNotification, rawNotify } from '../baselines';
import { benchOpenids, countPaid, createUnpaidOrders, createUser, notificationFields, notificationXml, settledCount } from '../fixtures';
import { http, Measurement, Pool } from '../load';
import { BenchContext, calibrationSize, checkWarmup, ScenarioResult, withEnoughInputs } from './types';

/** How one API's notifications look on the wire (v2 here; v3 in notify-v3.ts). */
export interface NotifyWire {
    name: string;
    /** Two letters for the bench user's openid, one user per scenario. */
    tag: string;
    path: string;
    request(fields: Record<string, string>): { headers: Record<string, string>; body: string };
    expectStatus: number;
    verifyBody(body: string): boolean;
    note(made: number): string;
}

const v2Wire: NotifyWire = {
    name: 'notify',
    tag: 'Nt',
    path: '/orders/pay/notify',
    request: (fields) => ({ headers: { 'content-type': 'text/xml' }, body: notificationXml(fields) }),
    expectStatus: 200,
    verifyBody: (body) => body === notifySuccessXml,
    note: (made) => `MD5-signed v2 notifications, each for its own unpaid order (${made} made for the measured run)`
};

export function notifyScenario(context: BenchContext): Promise<ScenarioResult> {
    return notifyScenarioOf(context, v2Wire);
}

/** The scenario for one wire format: the same orders, driver baseline and checks whatever the API. */
export async function notifyScenarioOf(context: BenchContext, wire: NotifyWire): Promise<ScenarioResult> {
    const { app, options, driver, merchant } = context;
    const openid = benchOpenids(1, wire.tag)[0];
    const userId = await createUser(openid);
    const runTag = Crypto.randomBytes(3).toString('hex');

    /** `count` unpaid orders (out_trade_no starting with `tag`) and a signed notification for each. */
    const prepare = async (tag: string, count: number): Promise<PaidNotification[]> => {
        const orders = await createUnpaidOrders(userId, count, tag);
        return orders.map((order) => ({ order, fields: notificationFields(merchant, order, openid) }));
    };

    const notify = (notifications: PaidNotification[], run: { duration: number; amount?: number }) => {
        const pool = new Pool(notifications.map(({ fields }) => wire.request(fields)));
        return http({
            label: `app POST ${wire.path}`,
            url: `${app.base}${wire.path}`,
            connections: options.connections,
            ...run,
            method: 'POST',
            next: () => {
                const request = pool.take();
                return request === undefined ? undefined : { method: 'POST', path: wire.path, ...request };
            },
            expectStatus: wire.expectStatus,
            serverPid: app.pid,
            verifyBody: wire.verifyBody
        });
    };
    const direct = (notifications: PaidNotification[], duration: number) => {
        const pool = new Pool(notifications);
        return rawNotify(driver, { connections: options.connections, duration, next: () => pool.take() });
    };

    const calibration = calibrationSize(options.connections);
    context.log(`notify: warm-up and calibration with ${calibration} notifications each`);
    const warmApp = await notify(await prepare(`W${runTag}a`, calibration + 2 * options.connections), { duration: options.duration, amount: calibration });
    const warmRaw = await direct(await prepare(`W${runTag}r`, calibration), options.duration);
    checkWarmup(context, 'notify', warmApp);
    checkWarmup(context, 'notify (driver)', warmRaw);

    context.log('notify: measuring the driver, then the app');
    let rawTag = '';
    const baseline = await withEnoughInputs(context, 'notify (driver)', warmRaw.rps, async (count, round) => {
        rawTag = `M${runTag}r${round}`;
        return direct(await prepare(rawTag, count), options.duration);
    });
    checkRaw(baseline, await countPaid(rawTag));

    let appTag = '';
    let made = 0;
    const measured = await withEnoughInputs(context, 'notify (app)', warmApp.rps, async (count, round) => {
        appTag = `M${runTag}a${round}`;
        made = count;
        const notifications = await prepare(appTag, count);
        return app.profiled('notify', () => notify(notifications, { duration: options.duration }));
    });
    const note = checkApp(measured, await settledCount(() => countPaid(appTag)), options.connections, wire.expectStatus);

    return { name: wire.name, app: measured, baseline, target: 0.6, notes: [wire.note(made), note] };
}

function checkRaw(measured: Measurement, paid: number): void {
    if (paid !== measured.total) {
        measured.problems.push(`${measured.total} transactions committed but ${paid} orders are paid`);
    }
}

/** Every success reply is a paid order; requests abandoned in flight at the end may add up to `connections` more. */
function checkApp(measured: Measurement, paid: number, connections: number, successStatus: number): string {
    const succeeded = measured.statusCodes[successStatus] ?? 0;
    if (paid < succeeded || paid > succeeded + connections) {
        measured.problems.push(`${succeeded} notifications answered SUCCESS but ${paid} orders are paid`);
    }

    return `checked: ${paid} orders paid; ${succeeded} SUCCESS replies (+${paid - succeeded} abandoned in flight at the end)`;
}
