import type { Models, Order, OrderEvent, OrderItem, Payment } from '../../models';
import { orderHistory } from '../orders/events';
import { orderView } from '../orders/view';
import { merchantShipmentView, shipmentsOf } from '../shipping/shipments';
import { refundRequestsOf, refundRequestView } from '../refunds/requests';
import { refundView } from '../refunds/view';

/** An order as the merchant sees it in a list: the buyer's view plus the buyer. */
export function merchantOrderSummary(order: Order, items: OrderItem[]) {
    return { ...orderView(order, items), userId: order.userId };
}

function paymentView(payment: Payment) {
    return {
        id: payment.id,
        transactionId: payment.transactionId,
        totalFee: payment.totalFee,
        payerOpenid: payment.payerOpenid,
        paidAt: payment.paidAt,
        source: payment.source,
        outcome: payment.outcome,
        createdAt: payment.createdAt
    };
}

/** One line of the order's history: who, when, from → to, why. */
function eventView(event: OrderEvent) {
    return {
        from: event.fromStatus,
        to: event.toStatus,
        actor: { kind: event.actorKind, id: event.actorId },
        reason: event.reason,
        at: event.createdAt
    };
}

/**
 * One order with everything the merchant sees about it. The one place to add what belongs to an order (refunds,
 * events, anomalies): load it here and add a key.
 */
export async function merchantOrderDetail(models: Models, orderId: number) {
    const order = await models.Order.findByPk(orderId, { include: [{ model: models.OrderItem, as: 'items' }] });
    if (!order) {
        return undefined;
    }

    const [payments, refunds, events, refundRequests] = await Promise.all([
        models.Payment.findAll({ where: { orderId }, order: [['id', 'ASC']] }),
        models.Refund.findAll({ where: { orderId }, order: [['id', 'ASC']] }),
        orderHistory(orderId),
        refundRequestsOf(orderId)
    ]);
    return {
        ...merchantOrderSummary(order, sortedItems(order.items ?? [])),
        payments: payments.map(paymentView),
        shipments: (await shipmentsOf(orderId)).map(merchantShipmentView),
        refunds: refunds.map(refundView),
        events: events.map(eventView),
        refundRequests: refundRequests.map(refundRequestView)
    };
}

export function sortedItems(items: OrderItem[]): OrderItem[] {
    return [...items].sort((a, b) => a.goodsId - b.goodsId);
}
