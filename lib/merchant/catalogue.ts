import { Op, Sequelize, WhereOptions } from 'sequelize';

import type { Goods, Models, Shop } from '../../models';
import type { MerchantActor } from './actor';
import { recordAction } from './audit';

export const maxInt32 = 2147483647;

export class CatalogueError extends Error {
    constructor(readonly reason: 'not_found' | 'conflict', message: string) {
        super(message);
        this.name = 'CatalogueError';
    }
}

export interface ShopFields {
    name: string;
    description: string;
    logoUrl: string | null;
}

export interface GoodsFields {
    name: string;
    thumbUrl: string | null;
    /** fen */
    price: number;
    onSale: boolean;
    sortOrder: number;
    archived: boolean;
}

/** A goods change: any fields, plus at most one stock change (relative, or absolute when the version still matches). */
export type GoodsPatch = Partial<GoodsFields> & ({ stockDelta?: number; stock?: undefined; version?: undefined } | { stock: number; version: number; stockDelta?: undefined });

export function shopView(shop: Shop) {
    return { id: shop.id, name: shop.name, description: shop.description, logoUrl: shop.logoUrl, createdAt: shop.createdAt, updatedAt: shop.updatedAt };
}

export function merchantGoodsView(goods: Goods) {
    return {
        id: goods.id,
        shopId: goods.shopId,
        name: goods.name,
        thumbUrl: goods.thumbUrl,
        price: goods.price,
        stock: goods.stock,
        onSale: Boolean(goods.onSale),
        archived: Boolean(goods.archived),
        sortOrder: goods.sortOrder,
        version: goods.version,
        createdAt: goods.createdAt,
        updatedAt: goods.updatedAt
    };
}

export async function listShops(models: Models, page: { offset: number; limit: number }) {
    const { rows, count } = await models.Shop.findAndCountAll({ order: [['id', 'ASC']], ...page });
    return { results: rows.map(shopView), totalCount: count };
}

export async function createShop(models: Models, sequelize: Sequelize, actor: MerchantActor, fields: ShopFields): Promise<Shop> {
    return sequelize.transaction(async (transaction) => {
        const shop = await models.Shop.create(fields, { transaction });
        await recordAction(models, transaction, actor, 'shop.create', { type: 'shop', id: shop.id }, { after: fields });
        return shop;
    });
}

export async function updateShop(models: Models, sequelize: Sequelize, actor: MerchantActor, shopId: number, changes: Partial<ShopFields>): Promise<Shop> {
    return sequelize.transaction(async (transaction) => {
        const shop = await models.Shop.findByPk(shopId, { transaction });
        if (!shop) {
            throw new CatalogueError('not_found', `Shop ${shopId} does not exist`);
        }

        const before = pick(shop, Object.keys(changes) as Array<keyof ShopFields>);
        await shop.update(changes, { transaction });
        await recordAction(models, transaction, actor, 'shop.update', { type: 'shop', id: shopId }, { before, after: changes });
        return shop;
    });
}

export async function listGoods(models: Models, filter: { shopId?: number; archived?: boolean }, page: { offset: number; limit: number }) {
    const where: WhereOptions<Goods> = {};
    if (filter.shopId !== undefined) {
        Object.assign(where, { shopId: filter.shopId });
    }

    if (filter.archived !== undefined) {
        Object.assign(where, { archived: filter.archived });
    }

    const { rows, count } = await models.Goods.findAndCountAll({ where, order: [['shopId', 'ASC'], ['sortOrder', 'ASC'], ['id', 'ASC']], ...page });
    return { results: rows.map(merchantGoodsView), totalCount: count };
}

export async function createGoods(models: Models, sequelize: Sequelize, actor: MerchantActor, input: Partial<GoodsFields> & { shopId: number; name: string; price: number; stock: number }): Promise<Goods> {
    return sequelize.transaction(async (transaction) => {
        if (!await models.Shop.findByPk(input.shopId, { attributes: ['id'], transaction })) {
            throw new CatalogueError('not_found', `Shop ${input.shopId} does not exist`);
        }

        const goods = await models.Goods.create({ thumbUrl: null, ...input }, { transaction });
        await recordAction(models, transaction, actor, 'goods.create', { type: 'goods', id: goods.id }, { after: input });
        return goods;
    });
}

/**
 * Changes goods in one guarded UPDATE that also bumps the version: a relative stock change only where the stock
 * stays within 0 and 2^31-1, an absolute one only where the version is still the one the caller read. Of two
 * staff setting stock from one version, exactly one wins and the other gets a 409. Orders keep their own line
 * prices, so a price change never alters an order already placed.
 */
export async function updateGoods(models: Models, sequelize: Sequelize, actor: MerchantActor, goodsId: number, patch: GoodsPatch): Promise<Goods> {
    return sequelize.transaction(async (transaction) => {
        const { stockDelta, stock, version, ...fields } = patch;
        const where: Record<string | symbol, unknown>[] = [{ id: goodsId }];
        const changes: Record<string, unknown> = { ...fields, version: sequelize.literal('version + 1') };
        if (stockDelta !== undefined) {
            changes.stock = sequelize.literal(`stock + ${integer(stockDelta)}`);
            where.push(stockDelta < 0 ? { stock: { [Op.gte]: -stockDelta } } : { stock: { [Op.lte]: maxInt32 - stockDelta } });
        }
        else if (stock !== undefined) {
            changes.stock = stock;
            where.push({ version });
        }

        const before = await models.Goods.findByPk(goodsId, { transaction });
        if (!before) {
            throw new CatalogueError('not_found', `Goods ${goodsId} do not exist`);
        }

        const [changed] = await models.Goods.update(changes, { where: { [Op.and]: where }, transaction });
        if (changed !== 1) {
            const now = await models.Goods.findByPk(goodsId, { transaction });
            throw new CatalogueError('conflict', stock !== undefined
                ? `Goods ${goodsId} changed since version ${version} (now version ${now!.version}, stock ${now!.stock}): read them again`
                : `A stock change of ${stockDelta} would take goods ${goodsId} out of range (stock ${now!.stock})`);
        }

        const after = (await models.Goods.findByPk(goodsId, { transaction }))!;
        const keys = [...Object.keys(fields), ...(stockDelta !== undefined || stock !== undefined ? ['stock'] : [])] as Array<keyof GoodsFields | 'stock'>;
        await recordAction(models, transaction, actor, 'goods.update', { type: 'goods', id: goodsId }, {
            before: pick(before, keys), after: pick(after, keys), ...(stockDelta !== undefined ? { stockDelta } : {}), version: after.version
        });
        return after;
    });
}

function integer(value: number): number {
    if (!Number.isSafeInteger(value)) {
        throw new TypeError(`not an integer: ${value}`);
    }

    return value;
}

function pick<T extends object, K extends keyof T>(row: T, keys: K[]): Partial<Record<K, T[K]>> {
    return Object.fromEntries(keys.map((key) => [key, row[key]])) as Partial<Record<K, T[K]>>;
}
