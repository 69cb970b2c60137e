import { Sequelize, literal } from 'sequelize';

import { Goods, Order, OrderItem } from '../../models';
import { PayError } from '../wechatpay/client';
import { applyQueriedPayment, PaymentContext } from './payments';
import { transition } from './status';

export type CloseOutcome = 'closed' | 'already_closed' | 'paid' | 'not_unpaid';

/**
 * Closes an unpaid order: first at WeChat (when it was ever sent there), so no payment can start afterwards, then
 * here with a conditional `unpaid → closed` and its stock released, in one transaction. If WeChat says the order
 * was paid meanwhile, the payment is applied instead and the outcome is `paid`.
 */
export async function closeOrder(context: PaymentContext, order: Order): Promise<CloseOutcome> {
    if (order.status === 'closed') {
        return 'already_closed';
    }

    if (order.status !== 'unpaid') {
        return order.status === 'paid' ? 'paid' : 'not_unpaid';
    }

    if (order.prepayId) {
        try {
            await context.pay.closeOrder(order.outTradeNo);
        }
        catch (err) {
            if (!(err instanceof PayError) || (err.errCode !== 'ORDERPAID' && err.errCode !== 'ORDERNOTEXIST')) {
                throw err;
            }

            if (err.errCode === 'ORDERPAID') {
                await applyQueriedPayment(context, order.outTradeNo);
                return 'paid';
            }
        }
    }

    const closed = await closeLocally(context.sequelize, order.id);
    if (closed) {
        return 'closed';
    }

    const fresh = await Order.findByPk(order.id);
    return fresh!.status === 'paid' ? 'paid' : fresh!.status === 'closed' ? 'already_closed' : 'not_unpaid';
}

/** `unpaid → closed` and the stock of its lines given back, atomically. False when the order was not unpaid. */
export async function closeLocally(sequelize: Sequelize, orderId: number): Promise<boolean> {
    return sequelize.transaction(async (transaction) => {
        const closed = await transition(orderId, 'unpaid', 'closed', { closedAt: new Date(), claimedUntil: null, nextReconcileAt: null }, transaction);
        if (!closed) {
            return false;
        }

        const items = await OrderItem.findAll({ where: { orderId }, order: [['goodsId', 'ASC']], transaction });
        for (const item of items) {
            await Goods.update({ stock: literal(`stock + ${item.count}`) as any }, { where: { id: item.goodsId }, transaction });
        }

        return true;
    });
}
