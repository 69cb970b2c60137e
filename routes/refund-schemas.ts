import * as Boom from '@hapi/boom';
import * as Joi from 'joi';

import { RefundRefused } from '../lib/refunds/context';
import { orderStatuses } from '../models';
import { refundStatuses } from '../models/refund';
import { refundRequestStatuses } from '../models/refund-request';
import * as Schemas from './schemas';

export const refundSchema = Joi.object({
    id: Schemas.id.required(),
    orderId: Schemas.id.required(),
    outRefundNo: Joi.string().required().description('the refund number WeChat knows, made before WeChat is called'),
    amount: Joi.number().integer().min(1).required().description('fen'),
    reason: Joi.string().required(),
    restock: Joi.boolean().required(),
    status: Joi.string().valid(...refundStatuses).required().description('processing until WeChat says succeeded, failed (CHANGE) or closed'),
    submitted: Joi.boolean().required().description('false while it waits for WeChat\'s one-minute spacing between refunds of an order'),
    refundId: Joi.string().allow(null).required().description("WeChat's refund_id"),
    wechatStatus: Joi.string().allow(null).required(),
    failure: Joi.string().allow(null).required(),
    requestedBy: Joi.object({ kind: Joi.string().required(), id: Joi.string().allow(null).required() }).required().label('RefundRequester'),
    createdAt: Joi.date().required(),
    finishedAt: Joi.date().allow(null).required()
}).label('Refund');

export const refundRequestSchema = Joi.object({
    id: Schemas.id.required(),
    orderId: Schemas.id.required(),
    status: Joi.string().valid(...refundRequestStatuses).required().description('open → approving (its refund being asked for) → approved, or open → rejected'),
    amount: Joi.number().integer().min(1).required().description('fen'),
    reason: Joi.string().required().description("the buyer's"),
    rejection: Joi.string().allow(null).required().description("the merchant's reason, when rejected"),
    refundId: Schemas.id.allow(null).required().description('the refund made on approval'),
    createdAt: Joi.date().required(),
    decidedAt: Joi.date().allow(null).required()
}).label('RefundRequest');

export const orderEventSchema = Joi.object({
    from: Joi.string().valid(...orderStatuses).allow(null).required().description('null: the order was created'),
    to: Joi.string().valid(...orderStatuses).required(),
    actor: Joi.object({ kind: Joi.string().required(), id: Joi.string().allow(null).required() }).required().label('OrderEventActor'),
    reason: Joi.string().allow('').required(),
    at: Joi.date().required()
}).label('OrderEvent');

/** The refund service's refusal as the HTTP answer it names; anything else goes on to hapi. */
export function refusalAnswer(err: unknown): never {
    if (err instanceof RefundRefused) {
        throw new Boom.Boom(err.message, { statusCode: err.statusCode });
    }

    throw err;
}
