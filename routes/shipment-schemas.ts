import * as Joi from 'joi';

import { maxItemDesc, maxParcels } from '../lib/shipping/shipments';
import * as Schemas from './schemas';

const contact = Joi.string().max(32).description('masked, the last 4 digits clear: 189****1234');

const parcel = Joi.object({
    trackingNo: Joi.string().min(1).max(128).description('express only'),
    expressCompany: Joi.string().max(64).description('a delivery_id of GET /merchant/delivery-companies (express only)'),
    itemDesc: Joi.string().max(maxItemDesc).description(`at most ${maxItemDesc} characters; default: the order's lines`),
    contact: Joi.object({ consignorContact: contact, receiverContact: contact }).description('required for SF (顺丰)')
}).label('Parcel');

export const shipmentRequestSchema = Joi.object({
    logisticsType: Joi.number().integer().valid(1, 2, 3, 4).required().description('1 express, 2 same-city delivery, 3 virtual goods, 4 buyer pick-up'),
    deliveryMode: Joi.number().integer().valid(1, 2).default(1).description('1 unified (one parcel), 2 split (several parcels, express only)'),
    isAllDelivered: Joi.boolean().description('split delivery: whether this completes the delivery'),
    shippingList: Joi.array().items(parcel).min(1).max(maxParcels).required()
}).label('ShipmentRequest');

export const merchantShipmentSchema = Joi.object({
    id: Schemas.id.required(),
    logisticsType: Joi.number().integer().required(),
    deliveryMode: Joi.number().integer().required(),
    isAllDelivered: Joi.boolean().required(),
    reship: Joi.boolean().required().description('the one re-ship WeChat allows per payment'),
    shippingList: Joi.array().items(parcel).required(),
    uploadStatus: Joi.string().valid('pending', 'uploaded', 'skipped', 'failed').required()
        .description('skipped: the mini-program is not trade-managed; failed: WeChat refused it, a person must look'),
    uploadAttempts: Joi.number().integer().required(),
    lastError: Joi.string().allow(null).required(),
    uploadedAt: Joi.date().allow(null).required(),
    notice: Joi.string().valid('sent', 'not_subscribed', 'failed', 'off').allow(null).required().description("the buyer's subscribe message"),
    createdBy: Joi.string().required(),
    createdAt: Joi.date().required()
}).label('Shipment');

export const buyerShipmentSchema = Joi.object({
    id: Schemas.id.required(),
    logisticsType: Joi.number().integer().required().description('1 express, 2 same-city delivery, 3 virtual goods, 4 buyer pick-up'),
    parcels: Joi.array().items(Joi.object({
        trackingNo: Joi.string().allow(null).required(),
        expressCompany: Joi.string().allow(null).required(),
        itemDesc: Joi.string().required()
    }).label('BuyerParcel')).required(),
    createdAt: Joi.date().required()
}).label('BuyerShipment');
