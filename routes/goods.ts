import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import * as Schemas from './schemas';

export const goodsSchema = Joi.object({
    id: Schemas.id.required().example(7),
    shopId: Schemas.id.required().example(1),
    name: Joi.string().required().example('云南小粒咖啡豆 250g'),
    thumbUrl: Joi.string().allow(null).required(),
    price: Joi.number().integer().min(0).required().description('fen').example(6800),
    stock: Joi.number().integer().min(0).required().example(120)
}).label('Goods');

export const goodsRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-goods',
    register(server, { models }) {
        server.route({
            method: 'GET',
            path: '/shops/{shopId}/goods',
            options: {
                tags: ['api', 'shops'],
                description: "List a shop's goods",
                notes: 'Prices are integer fen. An unknown shop is a 404.',
                validate: { params: Joi.object({ shopId: Schemas.id.required() }), query: Schemas.pagination },
                response: { status: { 200: Schemas.listOf(goodsSchema, 'GoodsList'), ...Schemas.errors(400, 404) } }
            },
            handler: async (request) => {
                const { shopId } = request.params as { shopId: number };
                const [shop, { rows, count }] = await Promise.all([
                    models.Shop.findByPk(shopId, { attributes: ['id'] }),
                    models.Goods.findAndCountAll({
                        where: { shopId },
                        attributes: ['id', 'shopId', 'name', 'thumbUrl', 'price', 'stock'],
                        order: [['id', 'ASC']],
                        raw: true,
                        ...Schemas.pageOf(request.query as { page: number; limit: number })
                    })
                ]);
                if (!shop) {
                    throw Boom.notFound(`Shop ${shopId} does not exist`);
                }

                return { results: rows, totalCount: count };
            }
        });
    }
};
