import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import * as Schemas from './schemas';

export const healthRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-health',
    register(server, { sequelize }) {
        server.route({
            method: 'GET',
            path: '/health',
            options: {
                tags: ['api', 'health'],
                description: 'Liveness: the process answers',
                response: { schema: Joi.object({ status: Joi.string().valid('ok') }).label('Health') }
            },
            handler: () => ({ status: 'ok' })
        });

        server.route({
            method: 'GET',
            path: '/ready',
            options: {
                tags: ['api', 'health'],
                description: 'Readiness: the database answers (503 when it does not)',
                response: { status: { 200: Joi.object({ status: Joi.string().valid('ready') }).label('Ready'), ...Schemas.errors(503) } }
            },
            handler: async (request, h) => {
                try {
                    await sequelize.query('SELECT 1');
                    return { status: 'ready' };
                }
                catch (err) {
                    request.log(['warn', 'database'], `not ready: ${(err as Error).message}`);
                    return h.response({ statusCode: 503, error: 'Service Unavailable', message: 'The database is unreachable' }).code(503);
                }
            }
        });
    }
};
