import type { Order, OrderItem } from '../../models';

/** What an order's public view is made of: an Order, or the fields of one just written by raw SQL. */
export type OrderRecord = Pick<Order, 'id' | 'outTradeNo' | 'status' | 'totalFee' | 'createdAt' | 'expiresAt'>
    & Partial<Pick<Order, 'tradeType' | 'paidAt' | 'transactionId' | 'closedAt' | 'refundRequired' | 'refundedFee' | 'items'>>;

export type OrderItemRecord = Pick<OrderItem, 'goodsId' | 'name' | 'price' | 'count'>;

/** The public shape of an order: camelCase, money in fen, nothing internal (claims, reconcile schedule). */
export function orderView(order: OrderRecord, items: OrderItemRecord[] = order.items ?? []) {
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
        refundRequired: order.refundRequired ?? false,
        refundedFee: order.refundedFee ?? 0
    };
}
