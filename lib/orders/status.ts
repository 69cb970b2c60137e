import { Op, Sequelize, Transaction, WhereOptions } from 'sequelize';

import { Order, OrderStatus } from '../../models';
import { changeRows, sqlDate } from '../sql';
import { EventNote, recordEvent, systemActor, wechatActor } from './events';

/** Every status change an order can make. Anything else is refused. */
const transitions: Record<OrderStatus, readonly OrderStatus[]> = {
    // → closed only while no trade can exist at WeChat (never sent there, or WeChat said it is closed);
    // → refunding when WeChat reports the trade paid and already refunded (trade_state REFUND).
    unpaid: ['paid', 'closing', 'closed', 'refunding'],
    // A close was asked for; it waits for WeChat's close window or for closeorder to succeed. Takes no new pay.
    closing: ['paid', 'closed', 'refunding'],
    paid: ['refunding', 'shipped'],
    closed: [],
    refunding: ['refunded', 'paid'],
    refunded: [],
    // After payment (lib/shipping/): shipped by the merchant, receipt confirmed at WeChat, settled. Refunds from
    // shipped, received and completed come with the refunds work (refunding from each of them).
    shipped: ['received', 'completed'],
    received: ['completed'],
    completed: []
};

function checkTransition(order: number | string, from: OrderStatus, to: OrderStatus): void {
    if (!transitions[from].includes(to)) {
        throw new Error(`order ${order}: ${from} → ${to} is not a valid transition`);
    }
}

/**
 * Moves an order from one status to another as one conditional UPDATE (`WHERE status = :from`), so of two
 * racing writers exactly one wins, and audits it in the same transaction (one is opened when none is given).
 * Resolves to whether this caller made the change.
 */
export async function transition(
    orderId: number,
    from: OrderStatus,
    to: OrderStatus,
    changes: Partial<Order['_creationAttributes']>,
    transaction?: Transaction,
    extraWhere: WhereOptions<Order> = {},
    note: EventNote = { actor: systemActor, reason: `${from} → ${to}` }
): Promise<boolean> {
    checkTransition(orderId, from, to);
    const sequelize = Order.sequelize!;
    if (!transaction) {
        return sequelize.transaction((own) => transition(orderId, from, to, changes, own, extraWhere, note));
    }

    const [affected] = await Order.update({ ...changes, status: to }, {
        where: { [Op.and]: [{ id: orderId, status: from }, extraWhere] },
        transaction
    });
    if (affected !== 1) {
        return false;
    }

    await recordEvent(sequelize, { id: orderId }, from, to, note, transaction);
    return true;
}

/** The statuses a verified payment moves to `paid`: an order waiting for its close at WeChat still takes its payment. */
export const payableStatuses: readonly OrderStatus[] = ['unpaid', 'closing'];

/**
 * The unpaid (or closing) → paid transition of a verified payment, as one raw UPDATE (it runs on every
 * notification): by out_trade_no, and only if the order's total_fee is the amount paid. Resolves to whether this
 * caller made it.
 */
export async function markPaid(
    sequelize: Sequelize,
    payment: { outTradeNo: string; totalFee: number; transactionId: string; openid?: string; paidAt: Date },
    transaction: Transaction,
    note: EventNote = { actor: wechatActor, reason: `paid: transaction ${payment.transactionId}` }
): Promise<boolean> {
    // One status at a time (unpaid first: the usual case is one statement), so the audit names the real `from`.
    for (const from of payableStatuses) {
        checkTransition(payment.outTradeNo, from, 'paid');
        const changed = await changeRows(sequelize,
            'UPDATE orders SET status = $1, transaction_id = $2, paid_at = $3, payer_openid = $4, claimed_until = NULL, next_reconcile_at = NULL, updated_at = $5 ' +
            'WHERE out_trade_no = $6 AND status = $7 AND total_fee = $8',
            ['paid', payment.transactionId, sqlDate(sequelize, payment.paidAt), payment.openid ?? null, sqlDate(sequelize, new Date()), payment.outTradeNo, from, payment.totalFee],
            transaction);
        if (changed === 1) {
            await recordEvent(sequelize, { outTradeNo: payment.outTradeNo }, from, 'paid', note, transaction);
            return true;
        }
    }

    return false;
}
