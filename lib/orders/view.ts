import type { Order, OrderItem } from '../../models';

/** The public shape of an order: camelCase, money in fen, nothing internal (claims, reconcile schedule). */
export function orderView(order: Order, items: OrderItem[] = order.items ?? []) {
    return {
        id: order.id,
        outTradeNo: order.outTradeNo,
        status: order.status,
        totalFee: order.totalFee,
        items: items.map((item) => ({ goodsId: item.goodsId, name: item.name, price: item.price, count: item.count })),
        createdAt: order.createdAt,
        expiresAt: order.expiresAt,
        tradeType: order.tradeType ?? null,
        paidAt: order.paidAt ?? null,
        transactionId: order.transactionId ?? null,
        closedAt: order.closedAt ?? null,
        refundRequired: order.refundRequired ?? false
    };
}
