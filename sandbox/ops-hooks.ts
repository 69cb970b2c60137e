import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { FaultBook } from './faults';
import type { OpsPusher } from './ops-push';
import type { OpsSettings } from './ops-settings';
import type { ShippingBook } from './ops-shipping';
import type { Subscriptions } from './ops-subscribe';
import type { OpsTokens } from './ops-tokens';
import { showValidationError } from './validation';

/** Hooks under `/__sim/ops/`: the knobs, the simulated buyer, and what WeChat recorded. */

export interface OpsHooksContext {
    ops: OpsSettings;
    tokens: OpsTokens;
    shipping: ShippingBook;
    subscriptions: Subscriptions;
    pusher: OpsPusher;
    opsFaults: FaultBook;
    apiCalls: Record<string, number>;
}

const transaction = Joi.object({ transactionId: Joi.string().max(32).required() });

export const opsHookRoutes: Plugin<OpsHooksContext> = {
    name: 'wxshop-sandbox-ops-hooks',
    register(server, { ops, tokens, shipping, subscriptions, pusher, opsFaults, apiCalls }) {
        const hook = (method: 'GET' | 'POST', path: string, description: string, payload: Joi.Schema | undefined, handler: (payload: any) => any) => server.route({
            method,
            path: `/__sim/ops/${path}`,
            options: { description, tags: ['sandbox'], validate: payload ? { payload, failAction: showValidationError } : undefined },
            handler: (request) => handler(request.payload)
        });

        hook('POST', 'settings', 'Change the mini-program server API knobs by name; answers all of them', Joi.object({
            tokenGraceSeconds: Joi.number().integer().min(0).max(3600),
            tokenTtlSeconds: Joi.number().integer().min(301).max(7200),
            shippingSyncLagSeconds: Joi.number().integer().min(0).max(86400),
            tradeManaged: Joi.boolean(),
            autoConfirmExpressDays: Joi.number().min(0).max(60),
            autoConfirmOtherDays: Joi.number().min(0).max(60),
            settlementDelaySeconds: Joi.number().integer().min(0).max(30 * 86400),
            pushAttempts: Joi.number().integer().min(1).max(10),
            pushTimeoutMs: Joi.number().integer().min(10).max(60_000)
        }).allow(null), (payload) => Object.assign(ops, payload));

        hook('GET', 'calls', 'How often each token endpoint was called', undefined, () => tokens.calls);

        hook('GET', 'api-calls', 'How often each token-bearing API was called, by the last segment of its path', undefined, () => apiCalls);

        hook('POST', 'confirm-receipt', 'The buyer taps "confirm receipt" in WeChat: the payment settles and the push follows', transaction, async ({ transactionId }) => {
            const record = shipping.find({ transactionId });
            if (!record || !await shipping.confirm(record, 2)) {
                throw Boom.conflict('no shipped payment with this transaction_id');
            }

            return { orderState: record.state };
        });

        hook('POST', 'tick', "Apply what the simulator's clock made due (automatic confirmation, settlement) and push it", undefined, async () => {
            await shipping.advance();
            return { ok: true };
        });

        server.route({
            method: 'GET',
            path: '/__sim/ops/orders/{transactionId}',
            options: { description: "WeChat's shipping record of a payment (get_order's order), ignoring the sync lag", tags: ['sandbox'] },
            handler: async (request) => {
                await shipping.advance();
                const record = shipping.find({ transactionId: String(request.params.transactionId) }, true);
                if (!record) {
                    throw Boom.notFound('no payment with this transaction_id');
                }

                return shipping.view(record);
            }
        });

        hook('POST', 'subscribe', 'The buyer accepts a subscribe-message template (wx.requestSubscribeMessage): one send each', Joi.object({
            openid: Joi.string().max(128),
            transactionId: Joi.string().max(32).description('instead of openid: the payer of this payment'),
            templateId: Joi.string().max(128).required(),
            times: Joi.number().integer().min(1).max(100).default(1)
        }).xor('openid', 'transactionId'), ({ openid, transactionId, templateId, times }) => {
            const user = openid ?? shipping.find({ transactionId }, true)?.trade.payer;
            if (!user) {
                throw Boom.notFound('no payment with this transaction_id');
            }

            return { openid: user, credits: subscriptions.accept(user, templateId, times) };
        });

        hook('GET', 'messages', 'Subscribe messages sent, oldest first', undefined, () => subscriptions.sent);

        hook('GET', 'pushes', 'Message-push deliveries to the backend, oldest first', undefined, () => pusher.log);

        hook('POST', 'faults', 'Make the next call(s) of a token-bearing API fail: an errcode (default -1, busy) or a 502', Joi.object({
            api: Joi.string().valid('is_trade_managed', 'upload_shipping_info', 'get_order', 'get_delivery_list', 'send').required(),
            errcode: Joi.number().integer(),
            http500: Joi.boolean(),
            times: Joi.number().integer().min(1).max(100).default(1)
        }), ({ api, errcode, http500, times }) => {
            opsFaults.arm(api, http500 ? { kind: 'http500' } : { kind: 'errcode', code: errcode ?? -1 }, times);
            return { ok: true };
        });

        hook('POST', 'push-faults', 'Lose or duplicate the next push(es)', Joi.object({
            mode: Joi.string().valid('drop', 'duplicate').required(),
            times: Joi.number().integer().min(1).max(100).default(1)
        }), ({ mode, times }) => {
            mode === 'drop' ? pusher.dropNext(times) : pusher.duplicateNext(times);
            return { ok: true };
        });
    }
};
