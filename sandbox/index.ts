import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AdjustableClock } from '../lib/clock';

import { SimClock } from './clock';
import { FaultBook } from './faults';
import { hookRoutes } from './hooks';
import { LoginCodes, loginRoutes } from './login';
import { Notifier } from './notifier';
import { SandboxOps } from './ops';
import { initialSettings, SandboxOptions, SandboxSettings } from './options';
import { payV2Routes } from './pay-v2';
import { SandboxV3 } from './pay-v3';
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
    readonly faults = new FaultBook();
    readonly waits = new Waits();
    readonly codes: LoginCodes;
    readonly trades: Trades;
    readonly refunds = new RefundBook();
    readonly settings: SandboxSettings;
    readonly notifier: Notifier;
    /** API v3, when the options carry the merchant's v3 material. */
    readonly v3?: SandboxV3;
    /** Tokens, shipping management, message push, subscribe messages (sandbox/ops*.ts). */
    readonly ops: SandboxOps;
    readonly plugin: Plugin<void>;

    /** `clock`: mounted on the backend, the backend's own, so moving the simulator's time moves both. */
    constructor(readonly options: SandboxOptions, readonly clock: AdjustableClock = new SimClock()) {
        this.codes = new LoginCodes(this.clock);
        this.trades = new Trades(this.clock);
        this.settings = initialSettings(options);
        this.notifier = new Notifier({ options, settings: this.settings, clock: this.clock, waits: this.waits });
        this.v3 = options.v3 && new SandboxV3({ options, settings: this.settings, clock: this.clock, waits: this.waits, trades: this.trades }, options.v3);
        this.ops = new SandboxOps({ options, settings: this.settings, clock: this.clock, waits: this.waits, trades: this.trades });
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
                await server.register(this.ops.plugin);
                if (this.v3) {
                    await server.register(this.v3.plugin);
                }
            }
        };
    }

    /** Cancels every pending notification attempt, retry timer and held request. */
    stop(): void {
        this.waits.cancelAll();
    }
}
