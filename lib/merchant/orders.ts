import { Op, Sequelize, WhereOptions } from 'sequelize';

import type { Models, Order, OrderStatus } from '../../models';
import { merchantOrderSummary, sortedItems } from './order-view';

export interface OrderFilter {
    status?: OrderStatus;
    shopId?: number;
    from?: Date;
    to?: Date;
    outTradeNo?: string;
    transactionId?: string;
    /** a user id, or an openid */
    buyer?: string;
}

/**
 * Every order matching the filters, newest first, with its lines. Each filter is served by an index
 * (migrations/202612010602-...); the shop is matched through the lines' goods.
 */
export async function listMerchantOrders(models: Models, sequelize: Sequelize, filter: OrderFilter, page: { offset: number; limit: number }) {
    const where: WhereOptions<Order>[] = [];
    if (filter.status) {
        where.push({ status: filter.status });
    }

    if (filter.from) {
        where.push({ createdAt: { [Op.gte]: filter.from } });
    }

    if (filter.to) {
        where.push({ createdAt: { [Op.lt]: filter.to } });
    }

    if (filter.outTradeNo) {
        where.push({ outTradeNo: filter.outTradeNo });
    }

    if (filter.transactionId) {
        where.push({ transactionId: filter.transactionId });
    }

    if (filter.buyer) {
        const userId = await buyerId(models, filter.buyer);
        if (userId === undefined) {
            return { results: [], totalCount: 0 };
        }

        where.push({ userId });
    }

    if (filter.shopId !== undefined) {
        const shopId = sequelize.escape(filter.shopId);
        where.push({ id: { [Op.in]: sequelize.literal(`(SELECT oi.order_id FROM order_items oi JOIN goods g ON g.id = oi.goods_id WHERE g.shop_id = ${shopId})`) } });
    }

    const { rows, count } = await models.Order.findAndCountAll({ where: { [Op.and]: where }, order: [['id', 'DESC']], ...page });
    const items = rows.length ? await models.OrderItem.findAll({ where: { orderId: rows.map((order) => order.id) } }) : [];
    const linesOf = (orderId: number) => sortedItems(items.filter((item) => item.orderId === orderId));
    return { results: rows.map((order) => merchantOrderSummary(order, linesOf(order.id))), totalCount: count };
}

async function buyerId(models: Models, buyer: string): Promise<number | undefined> {
    if (/^[1-9]\d{0,9}$/.test(buyer)) {
        return Number(buyer);
    }

    const user = await models.User.findOne({ where: { openid: buyer }, attributes: ['id'] });
    return user?.id;
}
