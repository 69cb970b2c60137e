import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import { SimClock } from './clock';
import { FaultBook } from './faults';
import { hookRoutes } from './hooks';
import { LoginCodes, loginRoutes } from './login';
import { Notifier } from './notifier';
import { initialSettings, SandboxOptions, SandboxSettings } from './options';
import { payV2Routes } from './pay-v2';
import { phoneRoutes } from './phone';
import { refundHookRoutes } from './refund-hooks';
import { RefundBook, refundRoutes } from './refunds';
import { Trades } from './trades';
import { Waits } from './waits';

export type { SandboxOptions, SandboxSettings } from './options';
export type { Delivery, NotifyFault } from './notifier';

/**
 * The offline WeChat: api.weixin.qq.com and api.mch.weixin.qq.com as a hapi plugin, with test hooks under
 * `/__sim/`. It accepts exactly the credentials it is given.
 */
export class Sandbox {
    readonly clock = new SimClock();
    readonly faults = new FaultBook();
    readonly waits = new Waits();
    readonly codes = new LoginCodes(this.clock);
    readonly trades = new Trades(this.clock);
    readonly refunds = new RefundBook();
    readonly settings: SandboxSettings;
    readonly notifier: Notifier;
    readonly plugin: Plugin<void>;

    constructor(readonly options: SandboxOptions) {
        this.settings = initialSettings(options);
        this.notifier = new Notifier({ options, settings: this.settings, clock: this.clock, waits: this.waits });
        const context = {
            options,
            settings: this.settings,
            clock: this.clock,
            faults: this.faults,
            waits: this.waits,
            codes: this.codes,
            trades: this.trades,
            notifier: this.notifier
        };
        this.plugin = {
            name: 'wxshop-sandbox',
            register: async (server) => {
                server.validator(Joi);
                // Notification retries and held requests must neither outlive the server nor delay its stop.
                server.ext('onPreStop', () => this.stop());
                await server.register([
                    { plugin: loginRoutes, options: context },
                    { plugin: payV2Routes, options: context },
                    { plugin: phoneRoutes, options: context },
                    { plugin: hookRoutes, options: context },
                    { plugin: refundRoutes, options: { ...context, book: this.refunds } },
                    { plugin: refundHookRoutes, options: { ...context, book: this.refunds } }
                ]);
            }
        };
    }

    /** Cancels every pending notification attempt, retry timer and held request. */
    stop(): void {
        this.waits.cancelAll();
    }
}
