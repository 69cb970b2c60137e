import * as Crypto from 'crypto';

import { Sequelize, Transaction, UniqueConstraintError } from 'sequelize';

import { IdempotencyKey, Order, OrderItem } from '../../models';
import { changeRows, insertRow, insertRows, placeholders, selectRows, sqlDate } from '../sql';
import { isPayableTotal, maxTotalFee } from '../wechatpay/amount';
import { formatBeijingCompact } from '../wechatpay/time';
import { recordEvent } from './events';
import { lockBuyer, OrderLimits, withinOpenLimits } from './limits';
import type { OrderItemRecord, OrderRecord } from './view';

export interface OrderLine {
    goodsId: number;
    count: number;
}

/** The most units of one goods an order may hold, counted after its lines of that goods are merged. */
export const maxUnitsPerGoods = 999;

export type OrderRejection =
    | 'unknown_goods'           // 404
    | 'too_many_units'          // 400: more than maxUnitsPerGoods of one goods
    | 'unpayable_total'         // 400: 0 fen, or more than WeChat's total_fee can carry
    | 'out_of_stock'            // 409
    | 'not_on_sale'             // 409: archived or taken off sale
    | 'open_orders_limit'       // 409: the buyer holds too much in unpaid orders
    | 'idempotency_conflict';   // 409

export class OrderRejected extends Error {
    constructor(readonly reason: OrderRejection, message: string) {
        super(message);
        this.name = 'OrderRejected';
    }
}

export interface CreatedOrder {
    order: OrderRecord;
    items: OrderItemRecord[];
    /** True when an Idempotency-Key replay returned an order created earlier. */
    replayed: boolean;
}

const alphanumerics = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * 30 characters WeChat accepts as out_trade_no: the Beijing time of creation, then 16 random alphanumerics,
 * so it says nothing about the order id and cannot be guessed.
 */
export function newOutTradeNo(now: Date): string {
    let random = '';
    for (const byte of Crypto.randomBytes(16)) {
        random += alphanumerics[byte % alphanumerics.length];      // 256 % 62 bias is irrelevant here: uniqueness, not secrecy
    }

    return `${formatBeijingCompact(now)}${random}`;
}

/** Lines of the same goods merged, in goods id order: every transaction then takes row locks in the same order. */
export function normaliseLines(lines: OrderLine[]): OrderLine[] {
    const counts = new Map<number, number>();
    for (const line of lines) {
        counts.set(line.goodsId, (counts.get(line.goodsId) ?? 0) + line.count);
    }

    return [...counts].sort(([a], [b]) => a - b).map(([goodsId, count]) => ({ goodsId, count }));
}

function requestHash(lines: OrderLine[]): string {
    return Crypto.createHash('sha256').update(JSON.stringify(lines)).digest('hex');
}

/**
 * Creates an order in one transaction: stock taken with one guarded `UPDATE ... WHERE stock >= n` per line, names
 * and prices read from the database as the stock is taken, the order, its lines and the idempotency key written
 * together. Any failure rolls everything back. Raw SQL: this runs on every order (lib/sql.ts).
 */
export async function createOrder(sequelize: Sequelize, input: { userId: number; lines: OrderLine[]; ttlSeconds: number; limits: OrderLimits; idempotencyKey?: string; now?: Date }): Promise<CreatedOrder> {
    const lines = normaliseLines(input.lines);
    const hash = requestHash(lines);
    const heavy = lines.find((line) => line.count > maxUnitsPerGoods);
    if (heavy) {
        throw new OrderRejected('too_many_units', `At most ${maxUnitsPerGoods} of one goods per order: goods ${heavy.goodsId} asks ${heavy.count}`);
    }

    try {
        return await sequelize.transaction(async (transaction) => {
            await lockBuyer(sequelize, input.userId, transaction);          // first: see lib/orders/limits.ts
            if (input.idempotencyKey) {
                const replay = await findReplay(input.userId, input.idempotencyKey, hash, transaction);
                if (replay) {
                    return replay;
                }
            }

            const units = lines.reduce((sum, line) => sum + line.count, 0);
            if (!await withinOpenLimits(sequelize, input.userId, units, input.limits, transaction)) {
                throw new OrderRejected('open_orders_limit', `Too much held in unpaid orders: at most ${input.limits.openOrdersPerUser} orders and ` +
                    `${input.limits.openUnitsPerUser} units at once. Pay or cancel one first`);
            }

            const now = input.now ?? new Date();
            const created = sqlDate(sequelize, now);
            const goods = await takeStock(sequelize, lines, created, transaction);
            const items = lines.map((line) => ({ goodsId: line.goodsId, name: goods.get(line.goodsId)!.name, price: goods.get(line.goodsId)!.price, count: line.count }));
            const order = {
                outTradeNo: newOutTradeNo(now),
                status: 'unpaid' as const,
                totalFee: items.reduce((sum, item) => sum + item.price * item.count, 0),
                createdAt: now,
                expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000)
            };
            if (!isPayableTotal(order.totalFee)) {
                throw new OrderRejected('unpayable_total', `An order's total must be 1 to ${maxTotalFee} fen to be paid with WeChat Pay; this one is ${order.totalFee}`);
            }

            const id = await insertRow(sequelize,
                'INSERT INTO orders (user_id, out_trade_no, status, total_fee, units, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)',
                [input.userId, order.outTradeNo, order.status, order.totalFee, units, sqlDate(sequelize, order.expiresAt), created], transaction);

            const values = items.map((_, index) => `(${placeholders(index * 5 + 1, 5)})`).join(', ');
            await insertRows(sequelize, `INSERT INTO order_items (order_id, goods_id, name, price, count) VALUES ${values}`,
                items.flatMap((item) => [id, item.goodsId, item.name, item.price, item.count]), transaction);

            if (input.idempotencyKey) {
                const key = sequelize.getQueryInterface().quoteIdentifier('key');      // a reserved word in MySQL
                await insertRows(sequelize, `INSERT INTO idempotency_keys (user_id, ${key}, request_hash, order_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
                    [input.userId, input.idempotencyKey, hash, id, created], transaction);
            }

            await recordEvent(sequelize, { id }, null, 'unpaid', { actor: { kind: 'buyer', id: input.userId }, reason: 'placed' }, transaction);

            return { order: { id, ...order }, items, replayed: false };
        });
    }
    catch (err) {
        // Two requests with one key at once: the loser's insert hits the unique index; answer as a replay.
        if (err instanceof UniqueConstraintError && input.idempotencyKey) {
            const replay = await findReplay(input.userId, input.idempotencyKey, hash);
            if (replay) {
                return replay;
            }
        }

        throw err;
    }
}

/**
 * Takes each line's count from its goods' stock, never below zero, and reads the goods' names and prices under the
 * same write lock: in the UPDATE itself (RETURNING) where the database can, or once after the updates (MariaDB).
 */
async function takeStock(sequelize: Sequelize, lines: OrderLine[], updatedAt: Date | string, transaction: Transaction): Promise<Map<number, PricedGoods>> {
    const returning = sequelize.getDialect() !== 'mysql';
    const take = 'UPDATE goods SET stock = stock - $1, updated_at = $2 WHERE id = $3 AND stock >= $1 AND on_sale = TRUE AND archived = FALSE';
    const goods = new Map<number, PricedGoods>();
    for (const line of lines) {
        const bind = [line.count, updatedAt, line.goodsId];
        let taken: boolean;
        if (returning) {
            // As a SELECT, so that sequelize hands back the rows RETURNING gives (on SQLite it would drop them).
            const [row] = await selectRows<PricedGoods>(sequelize, `${take} RETURNING id, name, price`, bind, transaction);
            taken = row !== undefined;
            if (row) {
                goods.set(line.goodsId, row);
            }
        }
        else {
            taken = await changeRows(sequelize, take, bind, transaction) === 1;
        }

        if (!taken) {
            throw await stockRejection(sequelize, lines, line, transaction);
        }
    }

    if (!returning) {
        for (const row of await readGoods(sequelize, lines, transaction)) {
            goods.set(Number(row.id), row);
        }
    }

    return goods;
}

interface PricedGoods {
    id: number;
    name: string;
    price: number;
}

function readGoods(sequelize: Sequelize, lines: OrderLine[], transaction: Transaction): Promise<PricedGoods[]> {
    return selectRows<PricedGoods>(sequelize, `SELECT id, name, price FROM goods WHERE id IN (${placeholders(1, lines.length)})`,
        lines.map((line) => line.goodsId), transaction);
}

/** Why a line's stock could not be taken: goods that do not exist (all of them named), or not enough stock. */
async function stockRejection(sequelize: Sequelize, lines: OrderLine[], failed: OrderLine, transaction: Transaction): Promise<OrderRejected> {
    const found = new Map((await readGoods(sequelize, lines, transaction)).map((row) => [Number(row.id), row]));
    const missing = lines.filter((line) => !found.has(line.goodsId)).map((line) => line.goodsId);
    if (missing.length) {
        return new OrderRejected('unknown_goods', `Goods ${missing.join(', ')} do not exist`);
    }

    const [withdrawn] = await selectRows(sequelize, 'SELECT id FROM goods WHERE id = $1 AND (on_sale = FALSE OR archived = TRUE)', [failed.goodsId], transaction);
    if (withdrawn) {
        return new OrderRejected('not_on_sale', `Goods ${failed.goodsId} (${found.get(failed.goodsId)!.name}) are not on sale`);
    }

    return new OrderRejected('out_of_stock', `Not enough stock for goods ${failed.goodsId} (${found.get(failed.goodsId)!.name}): ${failed.count} asked`);
}

async function findReplay(userId: number, key: string, hash: string, transaction?: Transaction): Promise<CreatedOrder | undefined> {
    const existing = await IdempotencyKey.findOne({ where: { userId, key }, transaction });
    if (!existing) {
        return undefined;
    }

    if (existing.requestHash !== hash) {
        throw new OrderRejected('idempotency_conflict', 'This Idempotency-Key was used with a different request body');
    }

    const order = await Order.findByPk(existing.orderId, { include: [{ model: OrderItem, as: 'items' }], transaction });
    return { order: order!, items: order!.items!, replayed: true };
}
