import * as Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';
import * as Joi from 'joi';

import { clientIp } from '../lib/client-ip';
import type { AppContext } from '../lib/context';
import { checkout, CheckoutRejected } from '../lib/orders/checkout';
import { requestClose } from '../lib/orders/close';
import { createOrder, OrderRejected, OrderRejection } from '../lib/orders/create';
import { claimQuery, syncWithWechat } from '../lib/orders/sync';
import { buyerShipmentView, shipmentsOf } from '../lib/shipping/shipments';
import { orderView } from '../lib/orders/view';
import { withRefundRequests } from '../lib/refunds/requests';
import { orderStatuses, Order, OrderItem } from '../models';
import { PayError } from '../lib/wechatpay/client';
import { rateLimited } from '../plugins/rate-limit';
import { refundRequestSchema } from './refund-schemas';
import * as Schemas from './schemas';
import { buyerShipmentSchema } from './shipment-schemas';

const orderItemSchema = Joi.object({
    goodsId: Schemas.id.required(),
    name: Joi.string().required(),
    price: Joi.number().integer().min(0).required().description('fen, at order time'),
    count: Joi.number().integer().min(1).required()
}).label('OrderItem');

export const orderSchema = Joi.object({
    id: Schemas.id.required(),
    outTradeNo: Joi.string().required().description('the order number WeChat knows').example('20261122173000aB3dE5fG7hJ9kL1mN3'),
    status: Joi.string().valid(...orderStatuses).required()
        .description('unpaid → paid | closing | closed; closing (a cancel or expiry waiting for WeChat\'s close, takes no new pay) → closed | paid; ' +
            'paid → shipped → received → completed; paid → refunding → refunded. closed orders with refundRequired=true received money after closing'),
    totalFee: Joi.number().integer().min(0).required().description('fen').example(13600),
    items: Joi.array().items(orderItemSchema).required(),
    createdAt: Joi.date().required(),
    expiresAt: Joi.date().required().description('an unpaid order is closed after this'),
    tradeType: Joi.string().valid('JSAPI', 'NATIVE').allow(null).required(),
    paidAt: Joi.date().allow(null).required(),
    transactionId: Joi.string().allow(null).required().description("WeChat's transaction_id once paid"),
    closedAt: Joi.date().allow(null).required(),
    refundRequired: Joi.boolean().required().description('money arrived after the order was closed: the merchant must refund it'),
    refundedFee: Joi.number().integer().min(0).required().description('fen WeChat has confirmed refunded (lib/refunds)')
}).label('Order');

/** One order as its buyer sees it: with its shipments (tracking numbers) and its after-sales requests. */
const orderDetailSchema = orderSchema.keys({
    shipments: Joi.array().items(buyerShipmentSchema).required().label('BuyerShipmentList'),
    refundRequests: Joi.array().items(refundRequestSchema).required().label('OwnRefundRequestList').description('the buyer\'s after-sales requests and how the merchant decided them')
}).label('OrderDetail');

const orderParams = Joi.object({ orderId: Schemas.id.required() });

const paymentSchema = Joi.alternatives(
    Joi.object({
        appId: Joi.string().required(),
        timeStamp: Joi.string().required().description('whole seconds'),
        nonceStr: Joi.string().required(),
        package: Joi.string().required().example('prepay_id=wx201410272009395522657a690389285100'),
        signType: Joi.string().valid('MD5', 'HMAC-SHA256', 'RSA').required().description('RSA for WeChat Pay API v3 orders'),
        paySign: Joi.string().required()
    }).label('JsapiPayment').description('pass timeStamp, nonceStr, package, signType and paySign to wx.requestPayment'),
    Joi.object({
        codeUrl: Joi.string().required().example('weixin://wxpay/bizpayurl?pr=JyC91EIz1'),
        qrCode: Joi.string().required().description('PNG data URL of codeUrl')
    }).label('NativePayment')
).label('Payment');

/** WeChat's failures as answers a client can act on: 503 to retry later, 502 for what retrying won't fix. */
export function payFailure(request: Request, err: unknown): never {
    if (err instanceof PayError) {
        request.log(['error', 'wechatpay'], err.message);
        throw err.transient ? Boom.serverUnavailable('WeChat Pay is unavailable, try again shortly') : Boom.badGateway(`WeChat Pay refused the request (${err.errCode})`);
    }

    throw err;
}

const rejectionStatus: Record<OrderRejection, (message: string) => Boom.Boom> = {
    unknown_goods: Boom.notFound,
    too_many_units: Boom.badRequest,
    unpayable_total: Boom.badRequest,
    out_of_stock: Boom.conflict,
    not_on_sale: Boom.conflict,
    open_orders_limit: Boom.conflict,
    idempotency_conflict: Boom.conflict
};

export const orderRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-orders',
    register(server, context) {
        const { config, sequelize } = context;

        const ownOrder = async (request: Request) => {
            const { orderId } = request.params as { orderId: number };
            const order = await Order.findOne({
                where: { id: orderId, userId: request.auth.credentials.userId },
                include: [{ model: OrderItem, as: 'items' }],
                order: [[{ model: OrderItem, as: 'items' }, 'id', 'ASC']]
            });
            if (!order) {
                throw Boom.notFound(`Order ${orderId} does not exist`);
            }

            return order;
        };

        const reload = async (order: Order) => orderView((await Order.findByPk(order.id))!, order.items);

        server.route({
            method: 'POST',
            path: '/orders',
            options: {
                auth: 'jwt',
                tags: ['api', 'orders'],
                description: 'Place an order',
                plugins: rateLimited(config.rateLimit.ordersPerMinute),
                notes: 'Prices, totals and status come from the server. Stock is taken at once and given back if the order is ' +
                    'cancelled or expires unpaid. With an Idempotency-Key header a retry returns the same order (kept 24 hours).',
                validate: {
                    headers: Schemas.bearer.keys({
                        'idempotency-key': Joi.string().max(128).pattern(/^[\x21-\x7e]+$/).description('any unique string per order attempt')
                    }),
                    payload: Joi.object({
                        goodsList: Joi.array().items(Joi.object({
                            goodsId: Schemas.id.required(),
                            count: Joi.number().integer().min(1).max(999).required()
                        }).label('OrderLine')).min(1).max(50).required()
                    }).label('OrderRequest')
                },
                response: { status: { 201: orderSchema, ...Schemas.errors(400, 401, 404, 409, 429) } }
            },
            handler: async (request, h) => {
                const { goodsList } = request.payload as { goodsList: Array<{ goodsId: number; count: number }> };
                try {
                    const created = await createOrder(sequelize, {
                        userId: request.auth.credentials.userId,
                        lines: goodsList,
                        ttlSeconds: config.orders.ttlSeconds,
                        limits: config.orderLimits,
                        now: new Date(context.clock.now()),
                        idempotencyKey: request.headers['idempotency-key'] as string | undefined
                    });
                    const response = h.response(orderView(created.order, created.items)).code(201);
                    return created.replayed ? response.header('Idempotent-Replayed', 'true') : response;
                }
                catch (err) {
                    if (err instanceof OrderRejected) {
                        throw rejectionStatus[err.reason](err.message);
                    }

                    throw err;
                }
            }
        });

        server.route({
            method: 'GET',
            path: '/orders',
            options: {
                auth: 'jwt',
                tags: ['api', 'orders'],
                description: "The caller's orders, newest first",
                validate: { headers: Schemas.bearer, query: Schemas.pagination },
                response: { status: { 200: Schemas.listOf(orderSchema, 'OrderList'), ...Schemas.errors(400, 401) } }
            },
            handler: async (request) => {
                const { rows, count } = await Order.findAndCountAll({
                    where: { userId: request.auth.credentials.userId },
                    include: [{ model: OrderItem, as: 'items' }],
                    order: [['id', 'DESC'], [{ model: OrderItem, as: 'items' }, 'id', 'ASC']],
                    distinct: true,
                    ...Schemas.pageOf(request.query as { page: number; limit: number })
                });
                return { results: rows.map((order) => orderView(order)), totalCount: count };
            }
        });

        server.route({
            method: 'GET',
            path: '/orders/{orderId}',
            options: {
                auth: 'jwt',
                tags: ['api', 'orders'],
                description: 'One of the caller\'s orders',
                notes: 'With sync=true an unpaid order is first checked at WeChat (orderquery, at most once every 2 s per order).',
                validate: {
                    headers: Schemas.bearer,
                    params: orderParams,
                    query: Joi.object({ sync: Joi.boolean().default(false) })
                },
                response: { status: { 200: orderDetailSchema, ...Schemas.errors(400, 401, 404, 503) } }
            },
            handler: async (request) => {
                const order = await ownOrder(request);
                const withShipments = async (view: object) => ({ ...view, shipments: (await shipmentsOf(order.id)).map(buyerShipmentView) });
                const asksWechat = order.status === 'unpaid' || order.status === 'closing';
                if (!(request.query as { sync: boolean }).sync || !asksWechat || !order.prepayId || !await claimQuery(order, 2000, new Date(context.clock.now()))) {
                    return withShipments(await withRefundRequests(orderView(order)));
                }

                try {
                    await syncWithWechat(context, order);
                }
                catch (err) {
                    payFailure(request, err);
                }

                return withShipments(await withRefundRequests(await reload(order)));
            }
        });

        server.route({
            method: 'POST',
            path: '/orders/{orderId}/pay',
            options: {
                auth: 'jwt',
                tags: ['api', 'orders'],
                description: 'Pay an unpaid order with WeChat Pay',
                notes: 'JSAPI (default, the mini-program): pass the answer to wx.requestPayment. NATIVE: show the QR code. ' +
                    'The trade type is fixed by the first call; calling again returns a payment for the same prepay.',
                validate: {
                    headers: Schemas.bearer,
                    params: orderParams,
                    payload: Joi.object({ tradeType: Joi.string().valid('JSAPI', 'NATIVE').default('JSAPI') }).allow(null).label('PayRequest')
                },
                response: { status: { 200: paymentSchema, ...Schemas.errors(400, 401, 404, 409, 502, 503) } }
            },
            handler: async (request) => {
                const order = await ownOrder(request);
                const tradeType = (request.payload as { tradeType?: 'JSAPI' | 'NATIVE' } | null)?.tradeType ?? 'JSAPI';
                try {
                    return await checkout({ ...context, notifyUrl: context.notifyUrl() }, order, {
                        tradeType,
                        openid: request.auth.credentials.openid,
                        clientIp: clientIp(request, config.trustedProxies)
                    });
                }
                catch (err) {
                    if (err instanceof CheckoutRejected) {
                        throw Boom.conflict(err.message);
                    }

                    return payFailure(request, err);
                }
            }
        });

        server.route({
            method: 'POST',
            path: '/orders/{orderId}/cancel',
            options: {
                auth: 'jwt',
                tags: ['api', 'orders'],
                description: 'Cancel an unpaid order',
                notes: 'Closes the order at WeChat and here, and gives its stock back. An order sent to WeChat less than 5 minutes ago ' +
                    'answers `closing`: it takes no new pay and is closed once WeChat allows it. Cancelling a closed or closing order is a no-op. ' +
                    'If WeChat says it was paid meanwhile, the order becomes paid and the answer is 409.',
                validate: { headers: Schemas.bearer, params: orderParams, payload: Joi.object({}).allow(null).label('CancelRequest') },
                response: { status: { 200: orderSchema, ...Schemas.errors(400, 401, 404, 409, 502, 503) } }
            },
            handler: async (request) => {
                const order = await ownOrder(request);
                let outcome;
                try {
                    outcome = await requestClose(context, order, undefined, { actor: { kind: 'buyer', id: order.userId }, reason: 'cancelled by the buyer' });
                }
                catch (err) {
                    // The cancel is kept (the order is `closing`): the closing job finishes it at WeChat.
                    if ((await Order.findByPk(order.id))!.status === 'closing') {
                        request.log(['warn', 'wechatpay'], `closeorder of order ${order.id} failed, the closing job retries: ${(err as Error).message}`);
                        return reload(order);
                    }

                    return payFailure(request, err);
                }

                if (outcome === 'paid' || outcome === 'not_unpaid') {
                    throw Boom.conflict(`Order ${order.id} is ${outcome === 'paid' ? 'paid' : order.status} and cannot be cancelled`);
                }

                return reload(order);
            }
        });
    }
};
