import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import { finishRefund, RefundBook, RefundNotifyFault, RefundOutcome, RefundsContext, SimRefundStatus } from './refunds';
import { showValidationError } from './validation';

/** Test hooks for refunds under `/__sim/`: outcomes, held refunds, refund notification faults, the refund list. */
export const refundHookRoutes: Plugin<RefundsContext & { book: RefundBook }> = {
    name: 'wxshop-sandbox-refund-hooks',
    register(server, { book, ...context }) {
        server.route({
            method: 'POST',
            path: '/__sim/refund-outcomes',
            options: {
                description: 'How the next accepted refund(s) end',
                notes: 'SUCCESS (the default), CHANGE (abnormal), REFUNDCLOSE, or HOLD: stays PROCESSING until POST /__sim/refunds/complete.',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        outcome: Joi.string().valid('SUCCESS', 'CHANGE', 'REFUNDCLOSE', 'HOLD').required(),
                        times: Joi.number().integer().min(1).max(1000).default(1),
                        outTradeNo: Joi.string().max(32).description('only for the refunds of this trade')
                    }),
                    failAction: showValidationError
                }
            },
            handler: (request, h) => {
                const { outcome, times, outTradeNo } = request.payload as { outcome: RefundOutcome; times: number; outTradeNo?: string };
                book.armOutcome(outcome, times, outTradeNo);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'POST',
            path: '/__sim/refunds/complete',
            options: {
                description: 'End a refund still PROCESSING (SUCCESS, CHANGE or REFUNDCLOSE); its notification follows',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        outRefundNo: Joi.string().max(64).required(),
                        outcome: Joi.string().valid('SUCCESS', 'CHANGE', 'REFUNDCLOSE').required()
                    }),
                    failAction: showValidationError
                }
            },
            handler: (request, h) => {
                const { outRefundNo, outcome } = request.payload as { outRefundNo: string; outcome: Exclude<SimRefundStatus, 'PROCESSING'> };
                const made = book.byOutRefundNo.get(outRefundNo);
                if (!made) {
                    throw Boom.notFound(`no refund ${outRefundNo}`);
                }

                if (made.status !== 'PROCESSING') {
                    throw Boom.conflict(`refund ${outRefundNo} is already ${made.status}`);
                }

                finishRefund(context, book, made, outcome);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'POST',
            path: '/__sim/refund-notify-faults',
            options: {
                description: 'Disturb the next refund notification(s)',
                notes: 'drop: never delivered; duplicate: count copies at once; delay: first attempt after delayMs; badkey: req_info encrypted with another key.',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        mode: Joi.string().valid('drop', 'duplicate', 'delay', 'badkey').required(),
                        times: Joi.number().integer().min(1).max(1000).default(1),
                        count: Joi.number().integer().min(1).max(20),
                        delayMs: Joi.number().integer().min(0).max(600_000).when('mode', { is: 'delay', then: Joi.required() }),
                        outTradeNo: Joi.string().max(32).description('only for the refunds of this trade')
                    }),
                    failAction: showValidationError
                }
            },
            handler: (request, h) => {
                const { times, outTradeNo, ...fault } = request.payload as RefundNotifyFault & { times: number; outTradeNo?: string };
                book.armNotifyFault(fault, times, outTradeNo);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'GET',
            path: '/__sim/refunds',
            options: { description: "The simulator's refunds, oldest first", tags: ['sandbox'] },
            handler: () => [...book.byOutRefundNo.values()].map((made) => ({
                outRefundNo: made.outRefundNo,
                refundId: made.refundId,
                outTradeNo: made.trade.outTradeNo,
                refundFee: made.refundFee,
                status: made.status,
                createdAt: new Date(made.createdAt).toISOString()
            }))
        });
    }
};
