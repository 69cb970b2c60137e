import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import { actorOf } from '../lib/merchant/actor';
import { WebhookUrlError } from '../lib/webhooks/address';
import { endpointDeliveries, redeliver, RedeliveryRefused } from '../lib/webhooks/delivery-log';
import { createEndpoint, deleteEndpoint, EndpointChanges, endpointView, rotateSecret, updateEndpoint } from '../lib/webhooks/endpoints';
import { webhookEventTypes, WebhookEventType } from '../lib/webhooks/event-types';
import { WebhookEndpoint } from '../models';
import { MerchantAccess, merchantRoute } from '../plugins/merchant-auth';
import { merchantBearer } from './merchant-schemas';
import * as Schemas from './schemas';

const webhookAccess: MerchantAccess = { roles: ['owner'], keyScopes: [] };

const eventTypes = Joi.array().items(Joi.string().valid(...webhookEventTypes).label('WebhookEventType')).min(1).unique().label('WebhookEventTypes');
const url = Joi.string().max(1024).example('https://erp.example.com/wxshop/webhooks');

const endpointSchema = Joi.object({
    id: Schemas.id.required(),
    url: Joi.string().required(),
    description: Joi.string().allow('').required(),
    eventTypes: Joi.array().items(Joi.string()).required().label('WebhookEndpointEventTypes'),
    enabled: Joi.boolean().required(),
    disabledReason: Joi.string().allow(null).required(),
    failingSince: Joi.date().allow(null).required().description('the first failure since the last success'),
    previousSecretExpiresAt: Joi.date().allow(null).required().description('until then deliveries are signed with the previous secret too'),
    createdAt: Joi.date().required(),
    updatedAt: Joi.date().required()
}).label('WebhookEndpoint');

const withSecret = endpointSchema.keys({ secret: Joi.string().required().description('shown once: verify Wxshop-Signature with it') });

const deliverySchema = Joi.object({
    id: Schemas.id.required(),
    endpointId: Schemas.id.required(),
    eventId: Joi.string().required().example('evt_3q2Vb0…'),
    eventType: Joi.string().required(),
    status: Joi.string().valid('pending', 'succeeded', 'failed').required(),
    attempts: Joi.array().items(Joi.object({
        attemptedAt: Joi.date().required(),
        succeeded: Joi.boolean().required(),
        statusCode: Joi.number().integer().allow(null).required(),
        latencyMs: Joi.number().integer().required(),
        error: Joi.string().allow(null).required(),
        responseSnippet: Joi.string().allow(null, '').required().description('the first 512 characters of the answer')
    }).label('WebhookAttempt')).required().label('WebhookAttempts'),
    nextAttemptAt: Joi.date().allow(null).required(),
    createdAt: Joi.date().required()
}).label('WebhookDelivery');

const idParams = Joi.object({ id: Schemas.id.required() });

function badUrl(err: unknown): never {
    if (err instanceof WebhookUrlError) {
        throw Boom.badRequest(err.message);
    }

    throw err;
}

export const merchantWebhookRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-merchant-webhooks',
    register(server, { config, models, sequelize }) {
        const notFound = (id: number) => Boom.notFound(`webhook endpoint ${id} does not exist`);

        server.route({
            method: 'POST',
            path: '/merchant/webhooks',
            options: {
                tags: ['api', 'merchant'],
                description: 'Register a webhook endpoint',
                ...merchantRoute(webhookAccess, 'The signing secret is in this answer only. The URL must not lead to a loopback, private or otherwise special address.'),
                validate: {
                    headers: merchantBearer,
                    payload: Joi.object({
                        url: url.required(),
                        eventTypes: eventTypes.required(),
                        description: Joi.string().trim().max(255).allow('')
                    }).label('WebhookEndpointRequest')
                },
                response: { status: { 201: withSecret.label('WebhookEndpointCreated'), ...Schemas.errors(400, 401, 403) } }
            },
            handler: async (request, h) => {
                const input = request.payload as { url: string; eventTypes: WebhookEventType[]; description?: string };
                const { endpoint, secret } = await createEndpoint(models, sequelize, config.webhooks, actorOf(request), input).catch(badUrl);
                return h.response({ ...endpointView(endpoint), secret }).code(201);
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/webhooks',
            options: {
                tags: ['api', 'merchant'],
                description: 'List webhook endpoints',
                ...merchantRoute(webhookAccess, 'Never the secrets.'),
                validate: { headers: merchantBearer },
                response: { status: { 200: Joi.array().items(endpointSchema).label('WebhookEndpointList'), ...Schemas.errors(401, 403) } }
            },
            handler: async () => (await WebhookEndpoint.findAll({ order: [['id', 'ASC']] })).map(endpointView)
        });

        server.route({
            method: 'PATCH',
            path: '/merchant/webhooks/{id}',
            options: {
                tags: ['api', 'merchant'],
                description: 'Change a webhook endpoint',
                ...merchantRoute(webhookAccess, 'Enabling an endpoint (also one the system disabled) clears its failure record; its pending deliveries resume.'),
                validate: {
                    headers: merchantBearer,
                    params: idParams,
                    payload: Joi.object({
                        url,
                        eventTypes,
                        description: Joi.string().trim().max(255).allow(''),
                        enabled: Joi.boolean()
                    }).min(1).label('WebhookEndpointChange')
                },
                response: { status: { 200: endpointSchema, ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                const endpoint = await updateEndpoint(models, sequelize, config.webhooks, actorOf(request), id, request.payload as EndpointChanges).catch(badUrl);
                if (!endpoint) {
                    throw notFound(id);
                }

                return endpointView(endpoint);
            }
        });

        server.route({
            method: 'POST',
            path: '/merchant/webhooks/{id}/rotate-secret',
            options: {
                tags: ['api', 'merchant'],
                description: 'Rotate a webhook endpoint\'s secret',
                ...merchantRoute(webhookAccess, `The new secret is in this answer only. The previous one keeps signing for ${config.webhooks.secretOverlapSeconds} s: ` +
                    'until then each delivery carries two v1= signatures.'),
                validate: { headers: merchantBearer, params: idParams },
                response: { status: { 200: withSecret.label('WebhookEndpointRotated'), ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                const rotated = await rotateSecret(models, sequelize, config.webhooks, actorOf(request), id);
                if (!rotated) {
                    throw notFound(id);
                }

                return { ...endpointView(rotated.endpoint), secret: rotated.secret };
            }
        });

        server.route({
            method: 'DELETE',
            path: '/merchant/webhooks/{id}',
            options: {
                tags: ['api', 'merchant'],
                description: 'Delete a webhook endpoint',
                ...merchantRoute(webhookAccess, 'Its pending deliveries and delivery log go with it.'),
                validate: { headers: merchantBearer, params: idParams },
                response: { status: { 200: endpointSchema, ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                const endpoint = await deleteEndpoint(models, sequelize, actorOf(request), id);
                if (!endpoint) {
                    throw notFound(id);
                }

                return endpointView(endpoint);
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/webhooks/{id}/deliveries',
            options: {
                tags: ['api', 'merchant'],
                description: 'A webhook endpoint\'s delivery log',
                ...merchantRoute(webhookAccess, 'Newest first, each delivery with every attempt: time, HTTP status, latency, the start of the answer.'),
                validate: { headers: merchantBearer, params: idParams, query: Schemas.pagination },
                response: { status: { 200: Schemas.listOf(deliverySchema, 'WebhookDeliveryList'), ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                const { page, limit } = request.query as { page: number; limit: number };
                const log = await endpointDeliveries(id, page, limit);
                if (!log) {
                    throw notFound(id);
                }

                return log;
            }
        });

        server.route({
            method: 'POST',
            path: '/merchant/webhooks/deliveries/{id}/redeliver',
            options: {
                tags: ['api', 'merchant'],
                description: 'Deliver an event again',
                ...merchantRoute(webhookAccess, 'A new delivery of the same event (same id and body) to the same endpoint, due at once. A disabled endpoint is a 409.'),
                validate: { headers: merchantBearer, params: idParams },
                response: { status: { 202: deliverySchema, ...Schemas.errors(400, 401, 403, 404, 409) } }
            },
            handler: async (request, h) => {
                const { id } = request.params as { id: number };
                try {
                    const delivery = await redeliver(sequelize, config.webhooks, id);
                    if (!delivery) {
                        throw Boom.notFound(`webhook delivery ${id} does not exist`);
                    }

                    return h.response(delivery).code(202);
                }
                catch (err) {
                    if (err instanceof RedeliveryRefused) {
                        throw Boom.conflict(err.message);
                    }

                    throw err;
                }
            }
        });
    }
};
