/** GET /shops/{id}/goods (20 goods, the default page) against a bare hapi route. Target: ≥ 30% of the bare route. */
import { bareRoute } from '../baselines';
import { createCatalogue } from '../fixtures';
import { http } from '../load';
import { BenchContext, checkWarmup, ScenarioResult } from './types';

export async function goodsScenario(context: BenchContext): Promise<ScenarioResult> {
    const { app, options } = context;
    const { shopId } = await createCatalogue(20, 1000);
    const listing = (duration: number) => http({
        label: 'app GET /shops/{id}/goods',
        url: `${app.base}/shops/${shopId}/goods`,
        connections: options.connections,
        duration,
        expectStatus: 200,
        serverPid: app.pid,
        verifyBody: (body) => body.endsWith('"totalCount":20}')
    });
    const bare = (duration: number) => bareRoute(app, { connections: options.connections, duration });

    if (options.warmup) {
        context.log('goods: warming up');
        checkWarmup(context, 'goods (bare)', await bare(options.warmup));
        checkWarmup(context, 'goods', await listing(options.warmup));
    }

    context.log('goods: measuring the bare route, then the listing');
    const baseline = await bare(options.duration);
    const measured = await app.profiled('goods', () => listing(options.duration));
    return { name: 'goods', app: measured, baseline, target: 0.3, notes: ['20 goods per page, one shop'] };
}
