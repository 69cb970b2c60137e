import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { SimClock } from './clock';
import type { FaultBook } from './faults';
import type { Notifier, NotifyFault } from './notifier';
import type { SandboxSettings } from './options';
import type { Trades } from './trades';
import { showValidationError } from './validation';

/** Test hooks under `/__sim/`: faults, the clock, notification faults and log, run-time settings. */

export interface HooksContext {
    clock: SimClock;
    trades: Trades;
    faults: FaultBook;
    notifier: Notifier;
    settings: SandboxSettings;
}

export const faultEndpoints = ['jscode2session', 'unifiedorder', 'orderquery', 'closeorder', 'refund', 'refundquery'];

export const hookRoutes: Plugin<HooksContext> = {
    name: 'wxshop-sandbox-hooks',
    register(server, { clock, trades, faults, notifier, settings }) {
        server.route({
            method: 'POST',
            path: '/__sim/faults',
            options: {
                description: 'Make the next call(s) of an endpoint fail',
                notes: 'errcode: WeChat errcode (jscode2session) or result_code=FAIL with err_code (Pay v2, default SYSTEMERROR); '
                    + 'http500: a 5xx with an HTML body; timeout: hold the answer delayMs (default 10 s); badsign: a signature that does not verify.',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        endpoint: Joi.string().valid(...faultEndpoints).required(),
                        kind: Joi.string().valid('errcode', 'http500', 'timeout', 'badsign').required(),
                        code: Joi.alternatives(Joi.string().max(64), Joi.number()),
                        delayMs: Joi.number().integer().min(0).max(120_000),
                        times: Joi.number().integer().min(1).max(1000).default(1)
                    }),
                    failAction: showValidationError
                }
            },
            handler: (request, h) => {
                const { endpoint, times, ...fault } = request.payload as any;
                faults.arm(endpoint, fault, times);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'POST',
            path: '/__sim/clock',
            options: {
                description: "Move the simulator's clock forward",
                notes: 'Mounted on the backend, this is the backend\'s clock too. It moves at most 10 years in all.',
                tags: ['sandbox'],
                validate: { payload: Joi.object({ advanceMs: Joi.number().integer().min(0).required() }), failAction: showValidationError }
            },
            handler: (request) => {
                if (!clock.advance((request.payload as { advanceMs: number }).advanceMs)) {
                    throw Boom.badRequest('advanceMs would move the clock more than 10 years ahead in all');
                }

                return { now: new Date(clock.now()).toISOString() };
            }
        });

        server.route({
            method: 'POST',
            path: '/__sim/refund',
            options: {
                description: 'A refund of a paid trade is accepted: orderquery answers trade_state REFUND from now on',
                tags: ['sandbox'],
                validate: { payload: Joi.object({ outTradeNo: Joi.string().max(32).required() }), failAction: showValidationError }
            },
            handler: (request) => {
                const trade = trades.find((request.payload as { outTradeNo: string }).outTradeNo);
                if (!trade) {
                    throw Boom.notFound('ORDERNOTEXIST: no such out_trade_no');
                }

                if (trade.state !== 'SUCCESS') {
                    throw Boom.conflict(`only a paid trade can be refunded (it is ${trade.state})`);
                }

                trades.refund(trade);
                return { outTradeNo: trade.outTradeNo, tradeState: trade.state };
            }
        });

        server.route({
            method: 'POST',
            path: '/__sim/notify-faults',
            options: {
                description: 'Disturb the next payment notification(s)',
                notes: 'drop: never delivered; duplicate: count copies at once (default 3); delay: first attempt after delayMs; '
                    + 'badsign: a signature that does not verify; md5: signed with MD5 and no sign_type even for an HMAC-SHA256 order.',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        mode: Joi.string().valid('drop', 'duplicate', 'delay', 'badsign', 'md5').required(),
                        times: Joi.number().integer().min(1).max(1000).default(1),
                        count: Joi.number().integer().min(1).max(20),
                        delayMs: Joi.number().integer().min(0).max(600_000).when('mode', { is: 'delay', then: Joi.required() })
                    }),
                    failAction: showValidationError
                }
            },
            handler: (request, h) => {
                const { times, ...fault } = request.payload as NotifyFault & { times: number };
                notifier.armFault(fault, times);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'GET',
            path: '/__sim/notifications',
            options: {
                description: 'The notification delivery log, newest last',
                notes: 'Each entry: {outTradeNo, transactionId, attempt, at, outcome: success|failed|dropped, httpStatus?, reply?, error?}',
                tags: ['sandbox']
            },
            handler: () => notifier.log
        });

        server.route({
            method: 'POST',
            path: '/__sim/settings',
            options: {
                description: "Change the simulator's knobs while it runs; answers all of them",
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        msPerScheduleSecond: Joi.number().min(0).max(10_000).description('wall milliseconds per second of the notify retry schedule'),
                        closeGuardMinutes: Joi.number().min(0).max(1440).description('closeorder refused this long after unifiedorder (default 5); 0 is off'),
                        timeExpireMinMinutes: Joi.number().min(0).max(1440).description('a first unifiedorder with time_expire less than this far ahead is refused (default 5)'),
                        requirePaySign: Joi.boolean().description('the phone pays a prepayId only with a valid paySign (default true)'),
                        closeLagMs: Joi.number().integer().min(0).max(86_400_000).description('closeorder succeeds but the trade stays payable this long (default 0)'),
                        payAfterExpireMs: Joi.number().integer().min(0).max(86_400_000).description('a trade can be paid this long after time_expire (default 0)'),
                        plainTextJson: Joi.boolean().description('api.weixin.qq.com answers JSON as text/plain, as WeChat does'),
                        refundSpacingSeconds: Joi.number().min(0).max(3600).description('refunds of one trade at least this far apart (WeChat: 60); 0 is off'),
                        refundProcessingMs: Joi.number().integer().min(0).max(600_000).description('wall ms a refund stays PROCESSING before its outcome')
                    }).allow(null),
                    failAction: showValidationError
                }
            },
            handler: (request) => Object.assign(settings, request.payload)
        });
    }
};
