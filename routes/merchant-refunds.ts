import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import { actorOf } from '../lib/merchant/actor';
import { anomalyView, resolveAnomaly } from '../lib/merchant/anomalies';
import { merchantRefund } from '../lib/merchant/refunds';
import { listAnomalies } from '../lib/payments/anomalies';
import { approveRefundRequest, listRefundRequests, refundRequestView, rejectRefundRequest } from '../lib/refunds/requests';
import { refundView } from '../lib/refunds/view';
import { Order, PaymentAnomaly } from '../models';
import { paymentAnomalyKinds } from '../models/payment-anomaly';
import { RefundRequestStatus, refundRequestStatuses } from '../models/refund-request';
import { merchantAccess, merchantRoute } from '../plugins/merchant-auth';
import { merchantBearer } from './merchant-schemas';
import { refundRequestSchema, refundSchema, refusalAnswer } from './refund-schemas';
import * as Schemas from './schemas';

const orderParams = Joi.object({ orderId: Schemas.id.required() });
const idParams = Joi.object({ id: Schemas.id.required() });


const anomalySchema = Joi.object({
    id: Schemas.id.required(),
    kind: Joi.string().valid(...paymentAnomalyKinds).required(),
    source: Joi.string().valid('notify', 'query').required(),
    outTradeNo: Joi.string().required(),
    transactionId: Joi.string().required(),
    totalFee: Joi.number().integer().required().description('fen, as WeChat reports it paid'),
    orderId: Schemas.id.allow(null).required(),
    orderTotalFee: Joi.number().integer().allow(null).required().description('fen, what the order of outTradeNo costs'),
    reason: Joi.string().required(),
    createdAt: Joi.date().required(),
    resolvedAt: Joi.date().allow(null).required(),
    resolution: Joi.string().allow(null).required()
}).label('PaymentAnomaly');

/** Refunds, buyers' after-sales requests and payment anomalies, as the merchant works them. */
export const merchantRefundRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-merchant-refunds',
    register(server, context) {
        server.route({
            method: 'POST',
            path: '/merchant/orders/{orderId}/refunds',
            options: {
                tags: ['api', 'merchant'],
                description: 'Refund part or all of a paid order (WeChat Pay v2)',
                ...merchantRoute(merchantAccess.refundsWrite, 'The refund is `processing` until WeChat says how it ended; one asked less than a minute after ' +
                    'the order\'s last is queued (`submitted: false`). With an Idempotency-Key header a retry answers the same refund with `Idempotent-Replayed: true`.'),
                validate: {
                    headers: merchantBearer.keys({
                        'idempotency-key': Joi.string().max(128).pattern(/^[\x21-\x7e]+$/).description('any unique string per refund attempt')
                    }),
                    params: orderParams,
                    payload: Joi.object({
                        amount: Joi.number().integer().min(1).max(2147483647).required().description('fen'),
                        reason: Joi.string().trim().min(1).max(80).required().description('shown to the buyer by WeChat (refund_desc), at most 80 bytes'),
                        restock: Joi.boolean().default(false).description('give the order\'s stock back once the refund succeeds')
                    }).label('RefundInput')
                },
                response: { status: { 201: refundSchema, ...Schemas.errors(400, 401, 403, 404, 409, 503) } }
            },
            handler: async (request, h) => {
                const { orderId } = request.params as { orderId: number };
                const payload = request.payload as { amount: number; reason: string; restock: boolean };
                const made = await merchantRefund(context, actorOf(request), {
                    orderId, ...payload, idempotencyKey: request.headers['idempotency-key'] as string | undefined
                }).catch(refusalAnswer);
                const response = h.response(refundView(made.refund)).code(201);
                return made.replayed ? response.header('Idempotent-Replayed', 'true') : response;
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/orders/{orderId}/refunds',
            options: {
                tags: ['api', 'merchant'],
                description: 'An order\'s refunds, oldest first',
                ...merchantRoute(merchantAccess.ordersRead),
                validate: { headers: merchantBearer, params: orderParams },
                response: { status: { 200: Joi.array().items(refundSchema).label('RefundList'), ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { orderId } = request.params as { orderId: number };
                if (!await Order.count({ where: { id: orderId } })) {
                    throw Boom.notFound(`Order ${orderId} does not exist`);
                }

                const refunds = await context.models.Refund.findAll({ where: { orderId }, order: [['id', 'ASC']] });
                return refunds.map(refundView);
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/refund-requests',
            options: {
                tags: ['api', 'merchant'],
                description: 'Buyers\' after-sales requests, newest first',
                ...merchantRoute(merchantAccess.ordersRead),
                validate: { headers: merchantBearer, query: Schemas.pagination.keys({ status: Joi.string().valid(...refundRequestStatuses) }) },
                response: { status: { 200: Schemas.listOf(refundRequestSchema, 'RefundRequestList'), ...Schemas.errors(400, 401, 403) } }
            },
            handler: (request) => {
                const { page, limit, status } = request.query as { page: number; limit: number; status?: RefundRequestStatus };
                return listRefundRequests({ status, ...Schemas.pageOf({ page, limit }) });
            }
        });

        server.route({
            method: 'POST',
            path: '/merchant/refund-requests/{id}/approve',
            options: {
                tags: ['api', 'merchant'],
                description: 'Approve a buyer\'s request: refund its amount',
                ...merchantRoute(merchantAccess.refundsWrite, 'A refund the service refuses (more than is still refundable, an order no longer paid) is a 409 and the request stays open.'),
                validate: { headers: merchantBearer, params: idParams },
                response: { status: { 200: refundRequestSchema, ...Schemas.errors(400, 401, 403, 404, 409, 503) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                return refundRequestView(await approveRefundRequest(context, actorOf(request), id).catch(refusalAnswer));
            }
        });

        server.route({
            method: 'POST',
            path: '/merchant/refund-requests/{id}/reject',
            options: {
                tags: ['api', 'merchant'],
                description: 'Reject a buyer\'s request, with a reason the buyer sees',
                ...merchantRoute(merchantAccess.refundsWrite),
                validate: {
                    headers: merchantBearer,
                    params: idParams,
                    payload: Joi.object({ reason: Joi.string().trim().min(1).max(255).required() }).label('RefundRequestRejection')
                },
                response: { status: { 200: refundRequestSchema, ...Schemas.errors(400, 401, 403, 404, 409) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                const { reason } = request.payload as { reason: string };
                return refundRequestView(await rejectRefundRequest(context, actorOf(request), id, reason).catch(refusalAnswer));
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/payment-anomalies',
            options: {
                tags: ['api', 'merchant'],
                description: 'Genuine payments that match no order of ours, newest first',
                ...merchantRoute(merchantAccess.payments, '`resolved=false` leaves out those resolved, `resolved=true` shows only them.'),
                validate: { headers: merchantBearer, query: Schemas.pagination.keys({ resolved: Joi.boolean() }) },
                response: { status: { 200: Schemas.listOf(anomalySchema, 'PaymentAnomalyList'), ...Schemas.errors(400, 401, 403) } }
            },
            handler: async (request) => {
                const { page, limit, resolved } = request.query as { page: number; limit: number; resolved?: boolean };
                const { results, totalCount } = await listAnomalies({ page, limit, resolved });
                return { results: results.map(anomalyView), totalCount };
            }
        });

        server.route({
            method: 'POST',
            path: '/merchant/payment-anomalies/{id}/resolve',
            options: {
                tags: ['api', 'merchant'],
                description: 'Mark an anomaly resolved, saying what was done',
                ...merchantRoute(merchantAccess.payments, 'Once only: resolving it again is a 409.'),
                validate: {
                    headers: merchantBearer,
                    params: idParams,
                    payload: Joi.object({ resolution: Joi.string().trim().min(1).max(255).required() }).label('AnomalyResolution')
                },
                response: { status: { 200: anomalySchema, ...Schemas.errors(400, 401, 403, 404, 409) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                const { resolution } = request.payload as { resolution: string };
                const outcome = await resolveAnomaly(context.models, context.sequelize, actorOf(request), id, resolution);
                if (outcome === 'not_found') {
                    throw Boom.notFound(`Payment anomaly ${id} does not exist`);
                }

                if (outcome === 'already_resolved') {
                    throw Boom.conflict(`Payment anomaly ${id} is already resolved`);
                }

                return anomalyView((await PaymentAnomaly.findByPk(id))!);
            }
        });
    }
};
