import * as Crypto from 'crypto';

import { Op, Sequelize, UniqueConstraintError, literal } from 'sequelize';

import { Goods, IdempotencyKey, Order, OrderItem } from '../../models';
import { formatBeijingCompact } from '../wechatpay/time';

export interface OrderLine {
    goodsId: number;
    count: number;
}

export class OrderRejected extends Error {
    constructor(readonly reason: 'unknown_goods' | 'out_of_stock' | 'idempotency_conflict', message: string) {
        super(message);
        this.name = 'OrderRejected';
    }
}

export interface CreatedOrder {
    order: Order;
    items: OrderItem[];
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
 * Creates an order in one transaction: prices and names from the database, stock taken with one guarded
 * `UPDATE ... WHERE stock >= n` per line, the order, its lines and the idempotency key written together.
 * Any failure rolls everything back.
 */
export async function createOrder(sequelize: Sequelize, input: { userId: number; lines: OrderLine[]; ttlSeconds: number; idempotencyKey?: string }): Promise<CreatedOrder> {
    const lines = normaliseLines(input.lines);
    const hash = requestHash(lines);

    // Names and prices are read before the transaction (the order is priced as the goods were when it was placed),
    // which keeps the write transaction short; the guarded stock update inside it is what must be atomic.
    const goods = await Goods.findAll({ where: { id: lines.map((line) => line.goodsId) }, attributes: ['id', 'name', 'price'] });
    const goodsById = new Map(goods.map((row) => [row.id, row]));
    const missing = lines.filter((line) => !goodsById.has(line.goodsId)).map((line) => line.goodsId);
    if (missing.length) {
        throw new OrderRejected('unknown_goods', `Goods ${missing.join(', ')} do not exist`);
    }

    try {
        return await sequelize.transaction(async (transaction) => {
            if (input.idempotencyKey) {
                const replay = await findReplay(input.userId, input.idempotencyKey, hash, transaction);
                if (replay) {
                    return replay;
                }
            }

            for (const line of lines) {
                const [taken] = await Goods.update({ stock: literal(`stock - ${line.count}`) as any }, {
                    where: { id: line.goodsId, stock: { [Op.gte]: line.count } },
                    transaction
                });
                if (taken !== 1) {
                    const item = goodsById.get(line.goodsId)!;
                    throw new OrderRejected('out_of_stock', `Not enough stock for goods ${item.id} (${item.name}): ${line.count} asked`);
                }
            }

            const now = new Date();
            const order = await Order.create({
                userId: input.userId,
                outTradeNo: newOutTradeNo(now),
                status: 'unpaid',
                totalFee: lines.reduce((sum, line) => sum + goodsById.get(line.goodsId)!.price * line.count, 0),
                expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000)
            }, { transaction });

            const items = await OrderItem.bulkCreate(lines.map((line) => ({
                orderId: order.id,
                goodsId: line.goodsId,
                name: goodsById.get(line.goodsId)!.name,
                price: goodsById.get(line.goodsId)!.price,
                count: line.count
            })), { transaction });

            if (input.idempotencyKey) {
                await IdempotencyKey.create({ userId: input.userId, key: input.idempotencyKey, requestHash: hash, orderId: order.id }, { transaction });
            }

            return { order, items, replayed: false };
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

async function findReplay(userId: number, key: string, hash: string, transaction?: any): Promise<CreatedOrder | undefined> {
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
