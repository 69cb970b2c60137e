import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import { openRefundRequest, refundRequestView } from '../lib/refunds/requests';
import { refundRequestSchema, refusalAnswer } from './refund-schemas';
import * as Schemas from './schemas';

/** A buyer's after-sales request; the merchant decides it (routes/merchant-refunds.ts), the buyer sees it on GET /orders/{id}. */
export const refundRequestRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-refund-requests',
    register(server) {
        server.route({
            method: 'POST',
            path: '/orders/{orderId}/refund-requests',
            options: {
                auth: 'jwt',
                tags: ['api', 'orders'],
                description: 'Ask the merchant for a refund of a paid order',
                notes: '`amount` (fen) defaults to everything still refundable. One open request per order; another order\'s is a 404.',
                validate: {
                    headers: Schemas.bearer,
                    params: Joi.object({ orderId: Schemas.id.required() }),
                    payload: Joi.object({
                        reason: Joi.string().trim().min(1).max(80).required().description('at most 80 bytes'),
                        amount: Joi.number().integer().min(1).max(2147483647).description('fen')
                    }).label('RefundRequestInput')
                },
                response: { status: { 201: refundRequestSchema, ...Schemas.errors(400, 401, 404, 409) } }
            },
            handler: async (request, h) => {
                const { orderId } = request.params as { orderId: number };
                const { reason, amount } = request.payload as { reason: string; amount?: number };
                const made = await openRefundRequest({ orderId, userId: request.auth.credentials.userId as number, reason, amount }).catch(refusalAnswer);
                return h.response(refundRequestView(made)).code(201);
            }
        });
    }
};
