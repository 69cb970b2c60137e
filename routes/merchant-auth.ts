import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import { clientIp } from '../lib/client-ip';
import type { AppContext } from '../lib/context';
import { actorOf } from '../lib/merchant/actor';
import { apiKeyScopes, apiKeyView, ApiKeyScope, createApiKey, revokeApiKey } from '../lib/merchant/api-keys';
import { merchantLogin, MerchantLoginRefused } from '../lib/merchant/login';
import { LoginFailures, Window, WindowStore } from '../lib/merchant/login-failures';
import { staffRoles } from '../models/merchant';
import { merchantAccess, merchantRoute } from '../plugins/merchant-auth';
import { sharedCacheName } from '../plugins/rate-limit';
import { merchantBearer } from './merchant-schemas';
import * as Schemas from './schemas';

const apiKeySchema = Joi.object({
    id: Schemas.id.required(),
    name: Joi.string().required().example('ERP sync'),
    prefix: Joi.string().required().description('the first characters of the key, to recognise it').example('wxk_3fZq0aB1'),
    scopes: Joi.array().items(Joi.string().valid(...apiKeyScopes).label('ApiKeyScope').label('ApiKeyScope')).required().label('ApiKeyScopes'),
    createdAt: Joi.date().required(),
    lastUsedAt: Joi.date().allow(null).required().description('kept to the minute'),
    revokedAt: Joi.date().allow(null).required()
}).label('ApiKey');

export const merchantAuthRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-merchant-auth',
    register(server, { config, models, sequelize }) {
        const windowMs = config.merchant.loginWindowSeconds * 1000;
        const cache = sharedCacheName(config);
        const failures = new LoginFailures(server.cache<Window>({ segment: 'merchant-login-failures', expiresIn: windowMs, ...(cache ? { cache } : {}) }) as WindowStore, {
            perIp: config.merchant.loginFailuresPerIp,
            perUsername: config.merchant.loginFailuresPerUsername,
            windowMs
        });

        server.route({
            method: 'POST',
            path: '/merchant/login',
            options: {
                auth: false,
                tags: ['api', 'merchant'],
                description: 'Log in as merchant staff',
                notes: 'A staff token (a different audience from buyers\' tokens). Unknown usernames and wrong passwords get the same 401; ' +
                    `after ${config.merchant.loginFailuresPerUsername} failures for a username or ${config.merchant.loginFailuresPerIp} from an IP ` +
                    `within ${config.merchant.loginWindowSeconds} s, logins are refused with 429 and Retry-After.`,
                validate: {
                    payload: Joi.object({
                        username: Joi.string().trim().min(1).max(64).required().example('demo'),
                        password: Joi.string().min(1).max(1024).required()
                    }).label('MerchantLoginRequest')
                },
                response: {
                    status: {
                        200: Joi.object({
                            token: Joi.string().required().description('send as Authorization: Bearer <token> on /merchant routes'),
                            expiresIn: Joi.number().integer().required().description('seconds').example(3600),
                            user: Joi.object({
                                id: Schemas.id.required(),
                                username: Joi.string().required(),
                                role: Joi.string().valid(...staffRoles).required()
                            }).label('StaffRef')
                        }).label('MerchantLoginResponse'),
                        ...Schemas.errors(400, 401, 429)
                    }
                }
            },
            handler: async (request) => {
                const { username, password } = request.payload as { username: string; password: string };
                const ip = clientIp(request, config.trustedProxies);
                try {
                    return await merchantLogin(config, models, failures, { ip, username, password });
                }
                catch (err) {
                    if (!(err instanceof MerchantLoginRefused)) {
                        throw err;
                    }

                    request.log(['info', 'merchant', 'login'], `merchant login of "${username}" from ${ip} refused: ${err.reason}`);
                    if (err.reason === 'invalid') {
                        throw Boom.unauthorized(err.message);
                    }

                    const limited = Boom.tooManyRequests(err.message);
                    limited.output.headers['Retry-After'] = String(err.retryAfterSeconds);
                    throw limited;
                }
            }
        });

        server.route({
            method: 'POST',
            path: '/merchant/api-keys',
            options: {
                tags: ['api', 'merchant'],
                description: 'Create an API key',
                ...merchantRoute(merchantAccess.apiKeys, 'The key (`wxk_...`) is in this answer only: it is stored hashed. Send it as `Authorization: Bearer wxk_...`.'),
                validate: {
                    headers: merchantBearer,
                    payload: Joi.object({
                        name: Joi.string().trim().min(1).max(64).required().example('ERP sync'),
                        scopes: Joi.array().items(Joi.string().valid(...apiKeyScopes).label('ApiKeyScope').label('ApiKeyScope')).min(1).unique().required().label('ApiKeyScopesRequest')
                    }).label('ApiKeyRequest')
                },
                response: { status: { 201: apiKeySchema.keys({ key: Joi.string().required().description('shown once') }).label('ApiKeyCreated'), ...Schemas.errors(400, 401, 403) } }
            },
            handler: async (request, h) => {
                const { name, scopes } = request.payload as { name: string; scopes: ApiKeyScope[] };
                const { row, key } = await createApiKey(models, sequelize, config.merchant.apiKeySecret, actorOf(request), { name, scopes });
                return h.response({ ...apiKeyView(row), key }).code(201);
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/api-keys',
            options: {
                tags: ['api', 'merchant'],
                description: 'List API keys',
                ...merchantRoute(merchantAccess.apiKeys, 'Revoked keys included; never the keys themselves.'),
                validate: { headers: merchantBearer },
                response: { status: { 200: Joi.array().items(apiKeySchema).label('ApiKeyList'), ...Schemas.errors(401, 403) } }
            },
            handler: async () => (await models.ApiKey.findAll({ order: [['id', 'ASC']] })).map(apiKeyView)
        });

        server.route({
            method: 'DELETE',
            path: '/merchant/api-keys/{id}',
            options: {
                tags: ['api', 'merchant'],
                description: 'Revoke an API key',
                ...merchantRoute(merchantAccess.apiKeys, 'The key is refused (401) from the next request on. Revoking a revoked key answers it unchanged.'),
                validate: { headers: merchantBearer, params: Joi.object({ id: Schemas.id.required() }) },
                response: { status: { 200: apiKeySchema, ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { id } = request.params as { id: number };
                const key = await revokeApiKey(models, sequelize, actorOf(request), id);
                if (!key) {
                    throw Boom.notFound(`API key ${id} does not exist`);
                }

                return apiKeyView(key);
            }
        });
    }
};
