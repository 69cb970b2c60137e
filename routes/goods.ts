import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';
import { QueryTypes } from 'sequelize';

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

interface GoodsRow {
    id: number;
    shop_id: number;
    name: string;
    thumb_url: string | null;
    price: number;
    stock: number;
    total_count: number | string;
}

function goodsView(row: GoodsRow) {
    return { id: row.id, shopId: row.shop_id, name: row.name, thumbUrl: row.thumb_url, price: row.price, stock: row.stock };
}

export const goodsRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-goods',
    register(server, { config, models, sequelize }) {
        const goodsPage = async (shopId: number, offset: number, limit: number) => {
            // One round trip: the page and, through a window, the total. Only an empty page needs more queries,
            // to tell an unknown shop (404) from a page past the end.
            const rows = await sequelize.query<GoodsRow>(
                `SELECT id, shop_id, name, thumb_url, price, stock, COUNT(*) OVER () AS total_count
                 FROM goods WHERE shop_id = :shopId AND on_sale = TRUE AND archived = FALSE
                 ORDER BY sort_order, id LIMIT :limit OFFSET :offset`,
                { replacements: { shopId, limit, offset }, type: QueryTypes.SELECT }
            );
            if (rows.length) {
                return { results: rows.map(goodsView), totalCount: Number(rows[0].total_count) };
            }

            if (!await models.Shop.findByPk(shopId, { attributes: ['id'] })) {
                throw Boom.notFound(`Shop ${shopId} does not exist`);
            }

            return { results: [], totalCount: await models.Goods.count({ where: { shopId, onSale: true, archived: false } }) };
        };

        // A page is read far more often than it changes: each instance keeps it GOODS_CACHE_MS (errors are not
        // kept). The stock shown may be that much behind; POST /orders always checks the real stock. A merchant
        // change drops the shop's pages on the instance that made it (dropGoodsPages: a new key generation).
        const generations = new Map<number, number>();
        server.method('goodsPage', goodsPage, config.goodsCacheMs ? {
            cache: { expiresIn: config.goodsCacheMs, generateTimeout: 5000 },
            generateKey: (shopId: number, offset: number, limit: number) => `${shopId}:${generations.get(shopId) ?? 0}:${offset}:${limit}`
        } : {});
        server.method('dropGoodsPages', (shopId: number) => {
            generations.set(shopId, (generations.get(shopId) ?? 0) + 1);
        });
        const cachedGoodsPage = server.methods.goodsPage as unknown as typeof goodsPage;

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
            handler: (request) => {
                const { shopId } = request.params as { shopId: number };
                const { offset, limit } = Schemas.pageOf(request.query as { page: number; limit: number });
                return cachedGoodsPage(shopId, offset, limit);
            }
        });
    }
};
