import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import { SimClock } from './clock';
import { FaultBook } from './faults';
import { LoginCodes, loginRoutes } from './login';
import type { SandboxOptions } from './options';

export type { SandboxOptions } from './options';

/**
 * The offline WeChat: api.weixin.qq.com and api.mch.weixin.qq.com as a hapi plugin, with test hooks under
 * `/__sim/`. It accepts exactly the credentials it is given.
 */
export class Sandbox {
    readonly clock = new SimClock();
    readonly faults = new FaultBook();
    readonly codes = new LoginCodes(this.clock);
    readonly plugin: Plugin<void>;

    constructor(readonly options: SandboxOptions) {
        this.plugin = {
            name: 'wxshop-sandbox',
            register: async (server) => {
                server.validator(Joi);
                await server.register({ plugin: loginRoutes, options: { options, codes: this.codes, faults: this.faults } });
                this.registerHooks(server);
            }
        };
    }

    private registerHooks(server: Parameters<Plugin<void>['register']>[0]): void {
        server.route({
            method: 'POST',
            path: '/__sim/faults',
            options: {
                description: 'Make the next call(s) of an endpoint fail',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        endpoint: Joi.string().required().example('jscode2session'),
                        kind: Joi.string().valid('errcode', 'http500', 'timeout', 'badsign').required(),
                        code: Joi.alternatives(Joi.string(), Joi.number()),
                        delayMs: Joi.number().integer().min(0).max(120_000),
                        times: Joi.number().integer().min(1).max(1000).default(1)
                    })
                }
            },
            handler: (request, h) => {
                const { endpoint, times, ...fault } = request.payload as any;
                this.faults.arm(endpoint, fault, times);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'POST',
            path: '/__sim/clock',
            options: {
                description: "Move the simulator's clock forward",
                tags: ['sandbox'],
                validate: { payload: Joi.object({ advanceMs: Joi.number().integer().min(0).required() }) }
            },
            handler: (request) => {
                this.clock.advance((request.payload as { advanceMs: number }).advanceMs);
                return { now: new Date(this.clock.now()).toISOString() };
            }
        });
    }
}
