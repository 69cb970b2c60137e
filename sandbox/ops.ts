import type { Plugin } from '@hapi/hapi';

import type { SimClock } from './clock';
import { FaultBook } from './faults';
import { opsHookRoutes } from './ops-hooks';
import { OpsPusher } from './ops-push';
import { opsRoutes } from './ops-routes';
import { initialOpsSettings, OpsSettings } from './ops-settings';
import { ShippingBook } from './ops-shipping';
import { Subscriptions } from './ops-subscribe';
import { OpsTokens } from './ops-tokens';
import type { SandboxOptions, SandboxSettings } from './options';
import type { Trades } from './trades';
import type { Waits } from './waits';

export type { PushTarget } from './ops-push';

/** The simulator's mini-program server APIs (tokens, shipping management, push, subscribe messages) as one plugin. */
export class SandboxOps {
    readonly settings: OpsSettings = initialOpsSettings();
    readonly tokens: OpsTokens;
    readonly pusher: OpsPusher;
    readonly shipping: ShippingBook;
    readonly subscriptions = new Subscriptions();
    readonly faults = new FaultBook();
    readonly apiCalls: Record<string, number> = {};
    readonly plugin: Plugin<void>;

    constructor(context: { options: SandboxOptions; settings: SandboxSettings; clock: SimClock; waits: Waits; trades: Trades }) {
        const { options, clock, waits, trades } = context;
        this.tokens = new OpsTokens(clock, this.settings);
        this.pusher = new OpsPusher(options.push, options.appId, clock, this.settings, waits);
        this.shipping = new ShippingBook(trades, clock, this.settings, this.pusher, options.mchId);
        const shared = { ...context, ops: this.settings, tokens: this.tokens, shipping: this.shipping, subscriptions: this.subscriptions, pusher: this.pusher, opsFaults: this.faults, apiCalls: this.apiCalls };
        this.plugin = {
            name: 'wxshop-sandbox-ops-all',
            register: async (server) => {
                await server.register([{ plugin: opsRoutes, options: shared }, { plugin: opsHookRoutes, options: shared }]);
            }
        };
    }
}
