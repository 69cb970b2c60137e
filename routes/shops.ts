import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import * as Schemas from './schemas';

export const shopSchema = Joi.object({
    id: Schemas.id.required().example(1),
    name: Joi.string().required().example('山间咖啡 Mountain Coffee'),
    description: Joi.string().allow('').required(),
    logoUrl: Joi.string().allow(null).required()
}).label('Shop');

export const shopRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-shops',
    register(server, { models }) {
        server.route({
            method: 'GET',
            path: '/shops',
            options: {
                tags: ['api', 'shops'],
                description: 'List shops',
                validate: { query: Schemas.pagination },
                response: { status: { 200: Schemas.listOf(shopSchema, 'ShopList'), ...Schemas.errors(400) } }
            },
            handler: async (request) => {
                const { rows, count } = await models.Shop.findAndCountAll({
                    attributes: ['id', 'name', 'description', 'logoUrl'],
                    order: [['id', 'ASC']],
                    ...Schemas.pageOf(request.query as { page: number; limit: number })
                });
                return { results: rows.map((shop) => shop.get({ plain: true })), totalCount: count };
            }
        });
    }
};
