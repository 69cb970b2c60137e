import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import { merchantOrderDetail } from '../lib/merchant/order-view';
import { listMerchantOrders, OrderFilter } from '../lib/merchant/orders';
import { orderStatuses } from '../models';
import { merchantAccess, merchantRoute } from '../plugins/merchant-auth';
import { merchantBearer } from './merchant-schemas';
import { orderEventSchema, refundRequestSchema, refundSchema } from './refund-schemas';
import { orderSchema } from './orders';
import * as Schemas from './schemas';
import { merchantShipmentSchema } from './shipment-schemas';

const merchantOrderSchema = orderSchema.keys({ userId: Schemas.id.required().description('the buyer') }).label('MerchantOrder');

const paymentSchema = Joi.object({
    id: Schemas.id.required(),
    transactionId: Joi.string().required(),
    totalFee: Joi.number().integer().required().description('fen'),
    payerOpenid: Joi.string().allow(null).required(),
    paidAt: Joi.date().required(),
    source: Joi.string().valid('notify', 'query').required(),
    outcome: Joi.string().valid('applied', 'refund_required', 'refunded_at_wechat').required(),
    createdAt: Joi.date().required()
}).label('PaymentRecord');

const merchantOrderDetailSchema = merchantOrderSchema.keys({
    payments: Joi.array().items(paymentSchema).required().label('PaymentRecordList'),
    shipments: Joi.array().items(merchantShipmentSchema).required().label('ShipmentList'),
    refunds: Joi.array().items(refundSchema).required().label('OrderRefundList'),
    events: Joi.array().items(orderEventSchema).required().label('OrderEventList').description('every status change, oldest first: who, when, from → to, why'),
    refundRequests: Joi.array().items(refundRequestSchema).required().label('OrderRefundRequestList')
}).label('MerchantOrderDetail');

export const merchantOrderRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-merchant-orders',
    register(server, { models, sequelize }) {
        server.route({
            method: 'GET',
            path: '/merchant/orders',
            options: {
                tags: ['api', 'merchant'],
                description: 'List every order, newest first',
                ...merchantRoute(merchantAccess.ordersRead, '`from` is inclusive, `to` exclusive (creation time). `buyer` is a user id or an openid.'),
                validate: {
                    headers: merchantBearer,
                    query: Schemas.pagination.keys({
                        status: Joi.string().valid(...orderStatuses),
                        shopId: Schemas.id,
                        from: Joi.date().iso(),
                        to: Joi.date().iso(),
                        outTradeNo: Joi.string().max(32),
                        transactionId: Joi.string().max(32),
                        buyer: Joi.string().max(128)
                    })
                },
                response: { status: { 200: Schemas.listOf(merchantOrderSchema, 'MerchantOrderList'), ...Schemas.errors(400, 401, 403) } }
            },
            handler: (request) => {
                const { page, limit, ...filter } = request.query as unknown as OrderFilter & { page: number; limit: number };
                return listMerchantOrders(models, sequelize, filter, Schemas.pageOf({ page, limit }));
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/orders/{orderId}',
            options: {
                tags: ['api', 'merchant'],
                description: 'One order with its lines, payments, refunds, shipments, buyers\' refund requests and status history',
                ...merchantRoute(merchantAccess.ordersRead),
                validate: { headers: merchantBearer, params: Joi.object({ orderId: Schemas.id.required() }) },
                response: { status: { 200: merchantOrderDetailSchema, ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { orderId } = request.params as { orderId: number };
                const order = await merchantOrderDetail(models, orderId);
                if (!order) {
                    throw Boom.notFound(`Order ${orderId} does not exist`);
                }

                return order;
            }
        });
    }
};
