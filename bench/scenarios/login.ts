/**
 * POST /users/login with a fresh single-use code per request (minted beforehand by the simulator), so every request
 * makes the app's real jscode2session call to the simulator mounted on it and its user lookup. 500 returning users.
 * Against the bare hapi route (POST with a body of the same shape). The issue sets no ratio target here.
 */
import { bareRoute } from '../baselines';
import { benchOpenids, loginUsers, mintCodes } from '../fixtures';
import { http, Pool } from '../load';
import { BenchContext, calibrationSize, checkWarmup, ScenarioResult, withEnoughInputs } from './types';

export async function loginScenario(context: BenchContext): Promise<ScenarioResult> {
    const { app, options } = context;
    const openids = benchOpenids(500, 'Lg');
    context.log('login: creating 500 users (first login)');
    await loginUsers(app, openids);

    const login = async (codes: string[], run: { duration: number; amount?: number }) => {
        const pool = new Pool(codes);
        return http({
            label: 'app POST /users/login',
            url: `${app.base}/users/login`,
            connections: options.connections,
            ...run,
            method: 'POST',
            next: () => {
                const code = pool.take();
                return code === undefined ? undefined : { method: 'POST', path: '/users/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) };
            },
            expectStatus: 200,
            serverPid: app.pid,
            verifyBody: (body) => body.startsWith('{"token":"')
        });
    };
    const bare = (duration: number) => bareRoute(app, { connections: options.connections, duration, method: 'POST', body: '{"code":"0a3Xyz000abcDEF1abcdef0000aBcDeFg"}' });

    const calibration = calibrationSize(options.connections);
    context.log(`login: warm-up and calibration with ${calibration} logins`);
    const warm = await login(await mintCodes(app, calibration + 2 * options.connections, openids), { duration: options.duration, amount: calibration });
    checkWarmup(context, 'login', warm);
    if (options.warmup) {
        checkWarmup(context, 'login (bare)', await bare(options.warmup));
    }

    context.log('login: measuring the bare route, then login');
    const baseline = await bare(options.duration);
    let minted = 0;
    const measured = await withEnoughInputs(context, 'login', warm.rps, async (count) => {
        minted = count;
        const codes = await mintCodes(app, count, openids);
        return app.profiled('login', () => login(codes, { duration: options.duration }));
    });
    return { name: 'login', app: measured, baseline, notes: [`returning users (500 openids), a fresh code per request (${minted} minted)`] };
}
