import * as Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';
import * as Joi from 'joi';

import type { AppContext } from '../lib/context';
import { actorOf } from '../lib/merchant/actor';
import {
    CatalogueError, createGoods, createShop, GoodsPatch, listGoods, listShops, maxInt32, merchantGoodsView, shopView, updateGoods, updateShop
} from '../lib/merchant/catalogue';
import { merchantAccess, merchantRoute } from '../plugins/merchant-auth';
import { merchantBearer } from './merchant-schemas';
import * as Schemas from './schemas';

const url = Joi.string().uri({ scheme: ['http', 'https'] }).max(512);

const shopFields = {
    name: Joi.string().trim().min(1).max(64),
    description: Joi.string().trim().allow('').max(512),
    logoUrl: url.allow(null)
};

const goodsFields = {
    name: Joi.string().trim().min(1).max(127),
    thumbUrl: url.allow(null),
    price: Joi.number().integer().strict().min(1).max(maxInt32).description('fen, a positive integer'),
    onSale: Joi.boolean().strict(),
    sortOrder: Joi.number().integer().strict().min(-maxInt32).max(maxInt32).description('lower first in the buyer\'s list'),
    archived: Joi.boolean().strict().description('archived goods leave the buyer\'s lists and cannot be ordered; old orders still show them')
};

const stock = Joi.number().integer().strict().min(0).max(maxInt32);

const merchantShopSchema = Joi.object({
    id: Schemas.id.required(),
    name: Joi.string().required(),
    description: Joi.string().allow('').required(),
    logoUrl: Joi.string().allow(null).required(),
    createdAt: Joi.date().required(),
    updatedAt: Joi.date().required()
}).label('MerchantShop');

const merchantGoodsSchema = Joi.object({
    id: Schemas.id.required(),
    shopId: Schemas.id.required(),
    name: Joi.string().required(),
    thumbUrl: Joi.string().allow(null).required(),
    price: Joi.number().integer().required().description('fen').example(6800),
    stock: Joi.number().integer().min(0).required(),
    onSale: Joi.boolean().required(),
    archived: Joi.boolean().required(),
    sortOrder: Joi.number().integer().required(),
    version: Joi.number().integer().min(0).required().description('send it back with an absolute `stock`'),
    createdAt: Joi.date().required(),
    updatedAt: Joi.date().required()
}).label('MerchantGoods');

function boomOf(err: unknown): never {
    if (err instanceof CatalogueError) {
        throw err.reason === 'not_found' ? Boom.notFound(err.message) : Boom.conflict(err.message);
    }

    throw err;
}

export const merchantCatalogueRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-merchant-catalogue',
    dependencies: ['wxshop-routes-goods'],
    register(server, { models, sequelize }) {
        // The buyers' goods pages of the shop are dropped on this instance the moment a change commits.
        const changed = (request: Request, shopId: number) => (request.server.methods.dropGoodsPages as (shopId: number) => void)(shopId);

        server.route({
            method: 'GET',
            path: '/merchant/shops',
            options: {
                tags: ['api', 'merchant'],
                description: 'List every shop',
                ...merchantRoute(merchantAccess.catalogueRead),
                validate: { headers: merchantBearer, query: Schemas.pagination },
                response: { status: { 200: Schemas.listOf(merchantShopSchema, 'MerchantShopList'), ...Schemas.errors(400, 401, 403) } }
            },
            handler: (request) => listShops(models, Schemas.pageOf(request.query as { page: number; limit: number }))
        });

        server.route({
            method: 'POST',
            path: '/merchant/shops',
            options: {
                tags: ['api', 'merchant'],
                description: 'Create a shop',
                ...merchantRoute(merchantAccess.catalogueWrite),
                validate: {
                    headers: merchantBearer,
                    payload: Joi.object({ ...shopFields, name: shopFields.name.required() }).label('ShopCreate')
                },
                response: { status: { 201: merchantShopSchema, ...Schemas.errors(400, 401, 403) } }
            },
            handler: async (request, h) => {
                const fields = { description: '', logoUrl: null, ...(request.payload as { name: string }) };
                return h.response(shopView(await createShop(models, sequelize, actorOf(request), fields))).code(201);
            }
        });

        server.route({
            method: 'PATCH',
            path: '/merchant/shops/{shopId}',
            options: {
                tags: ['api', 'merchant'],
                description: 'Change a shop',
                ...merchantRoute(merchantAccess.catalogueWrite),
                validate: {
                    headers: merchantBearer,
                    params: Joi.object({ shopId: Schemas.id.required() }),
                    payload: Joi.object(shopFields).min(1).label('ShopPatch')
                },
                response: { status: { 200: merchantShopSchema, ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request) => {
                const { shopId } = request.params as { shopId: number };
                return shopView(await updateShop(models, sequelize, actorOf(request), shopId, request.payload as object).catch(boomOf));
            }
        });

        server.route({
            method: 'GET',
            path: '/merchant/goods',
            options: {
                tags: ['api', 'merchant'],
                description: 'List goods, archived and off-sale ones included',
                ...merchantRoute(merchantAccess.catalogueRead),
                validate: {
                    headers: merchantBearer,
                    query: Schemas.pagination.keys({ shopId: Schemas.id, archived: Joi.boolean() })
                },
                response: { status: { 200: Schemas.listOf(merchantGoodsSchema, 'MerchantGoodsList'), ...Schemas.errors(400, 401, 403) } }
            },
            handler: (request) => {
                const { shopId, archived, ...page } = request.query as { shopId?: number; archived?: boolean; page: number; limit: number };
                return listGoods(models, { shopId, archived }, Schemas.pageOf(page));
            }
        });

        server.route({
            method: 'POST',
            path: '/merchant/goods',
            options: {
                tags: ['api', 'merchant'],
                description: 'Create goods',
                ...merchantRoute(merchantAccess.catalogueWrite, 'Prices are positive integer fen.'),
                validate: {
                    headers: merchantBearer,
                    payload: Joi.object({
                        shopId: Schemas.id.required(),
                        ...goodsFields,
                        name: goodsFields.name.required(),
                        price: goodsFields.price.required(),
                        stock: stock.required()
                    }).label('GoodsCreate')
                },
                response: { status: { 201: merchantGoodsSchema, ...Schemas.errors(400, 401, 403, 404) } }
            },
            handler: async (request, h) => {
                const input = request.payload as Parameters<typeof createGoods>[3];
                const goods = await createGoods(models, sequelize, actorOf(request), input).catch(boomOf);
                changed(request, goods.shopId);
                return h.response(merchantGoodsView(goods)).code(201);
            }
        });

        server.route({
            method: 'PATCH',
            path: '/merchant/goods/{goodsId}',
            options: {
                tags: ['api', 'merchant'],
                description: 'Change goods',
                ...merchantRoute(merchantAccess.catalogueWrite,
                    'Stock is changed either relatively (`stockDelta`: 409 if it would go below 0) or absolutely with the version read ' +
                    '(`{stock, version}`: 409 if the goods changed since). A price change never alters an order already placed.'),
                validate: {
                    headers: merchantBearer,
                    params: Joi.object({ goodsId: Schemas.id.required() }),
                    payload: Joi.object({
                        ...goodsFields,
                        stockDelta: Joi.number().integer().strict().min(-maxInt32).max(maxInt32).invalid(0).description('added to the stock'),
                        stock: stock.description('the new stock; needs `version`'),
                        version: Joi.number().integer().strict().min(0).description('the version the absolute `stock` was decided on')
                    }).min(1).and('stock', 'version').oxor('stockDelta', 'stock').label('GoodsPatch')
                },
                response: { status: { 200: merchantGoodsSchema, ...Schemas.errors(400, 401, 403, 404, 409) } }
            },
            handler: async (request) => {
                const { goodsId } = request.params as { goodsId: number };
                const goods = await updateGoods(models, sequelize, actorOf(request), goodsId, request.payload as GoodsPatch).catch(boomOf);
                changed(request, goods.shopId);
                return merchantGoodsView(goods);
            }
        });
    }
};
