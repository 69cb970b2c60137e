import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import { actorOf } from '../lib/merchant/actor';
import { createShipment, merchantShipmentView, ShipmentInput, ShipmentRejected, shipmentProblem } from '../lib/shipping/shipments';
import { WechatApiError } from '../lib/wechat/access-token';
import { merchantAccess, merchantRoute } from '../plugins/merchant-auth';
import { merchantBearer } from './merchant-schemas';
import * as Schemas from './schemas';
import { merchantShipmentSchema, shipmentRequestSchema } from './shipment-schemas';

const companySchema = Joi.object({ id: Joi.string().required(), name: Joi.string().required() }).label('DeliveryCompany');

export const merchantShipmentRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-merchant-shipments',
    register(server, { sequelize, models, ops }) {
        const companies = async () => {
            try {
                return await ops.shipping.deliveryCompanies();
            }
            catch (err) {
                throw Boom.serverUnavailable(`WeChat's delivery list is not available: ${err instanceof WechatApiError ? err.message : 'error'}`);
            }
        };

        server.route({
            method: 'GET',
            path: '/merchant/delivery-companies',
            options: {
                tags: ['api', 'merchant'],
                description: "WeChat's couriers (get_delivery_list, cached): the ids a shipment's expressCompany takes",
                ...merchantRoute(merchantAccess.ordersRead),
                validate: { headers: merchantBearer },
                response: { status: { 200: Joi.array().items(companySchema).label('DeliveryCompanyList'), ...Schemas.errors(401, 403, 503) } }
            },
            handler: () => companies()
        });

        server.route({
            method: 'POST',
            path: '/merchant/orders/{orderId}/shipments',
            options: {
                tags: ['api', 'merchant'],
                description: 'Ship a paid order (or re-ship a shipped one, once); uploaded to WeChat by a job',
                ...merchantRoute(merchantAccess.ordersWrite, 'Unified delivery, or split delivery (express only) in up to 10 parcels; '
                    + 'the order becomes shipped when the delivery is complete. A second shipment of a shipped order is its one re-ship.'),
                validate: { headers: merchantBearer, params: Joi.object({ orderId: Schemas.id.required() }), payload: shipmentRequestSchema },
                response: { status: { 201: merchantShipmentSchema, ...Schemas.errors(400, 401, 403, 404, 409, 503) } }
            },
            handler: async (request, h) => {
                const input = request.payload as ShipmentInput;
                const problem = shipmentProblem(input, input.logisticsType === 1 ? await companies() : []);
                if (problem) {
                    throw Boom.badRequest(problem);
                }

                try {
                    const shipment = await createShipment(sequelize, models, actorOf(request), (request.params as { orderId: number }).orderId, input);
                    return h.response(merchantShipmentView(shipment)).code(201);
                }
                catch (err) {
                    if (err instanceof ShipmentRejected) {
                        throw new Boom.Boom(err.message, { statusCode: err.status });
                    }

                    throw err;
                }
            }
        });
    }
};
