import { Op, Sequelize, literal } from 'sequelize';

import { Order, OrderItem, Goods, OrderStatus } from '../../models';
import { claimLeaseMs } from '../jobs/claim';
import { PayError } from '../wechatpay/client';
import { payFor } from './gateway';
import { applyQueriedPayment, PaymentContext } from './payments';
import { EventNote, systemActor } from './events';
import { transition } from './status';

/**
 * WeChat refuses closeorder within 5 minutes of the trade's creation (reference §2.6). We count from just before our
 * unifiedorder, which is earlier than WeChat's own start, so a margin covers the call's time and clock skew.
 */
export const closeWindowMs = 5 * 60_000 + 15_000;

/**
 * Seconds after its close at which a closed order that was sent to WeChat is asked about once more: a close can lag
 * at WeChat and a trade stays payable a little after time_expire, and a notification can be lost. Then it stops.
 */
const lateQuerySeconds = [60, 300, 1800, 7200];

/** The delay before the next late look at a closed order, or undefined when it has been watched long enough. */
export function lateQueryDelayMs(attempts: number): number | undefined {
    return attempts < lateQuerySeconds.length ? lateQuerySeconds[attempts] * 1000 : undefined;
}

export type CloseOutcome = 'closed' | 'closing' | 'already_closed' | 'paid' | 'not_unpaid';

/**
 * Asks for an unpaid order to be closed (a cancel, or its expiry). An order never sent to WeChat is closed here at
 * once; one that was (a trade may exist there, prepay stored or not) becomes `closing`, takes no new pay, and is
 * closed at WeChat before it is closed here: now if WeChat's close window has passed, otherwise by the closing job.
 */
export async function requestClose(context: PaymentContext, order: Order, now = new Date(context.clock.now()), note: EventNote = { actor: systemActor, reason: 'expired' }): Promise<CloseOutcome> {
    if (order.status === 'unpaid' && !order.sentToWechatAt) {
        // Conditional on the order still never having been sent: a pay racing this cancel either sees `closed`
        // and never calls WeChat, or has marked the order sent and this falls through to the WeChat path.
        if (await closeHere(context.sequelize, order.id, 'unpaid', now, { sentToWechatAt: null }, note)) {
            return 'closed';
        }

        order = (await Order.findByPk(order.id))!;
    }

    let moved = false;
    if (order.status === 'unpaid') {
        // Won or lost (a racing cancel, a payment), what the order is now decides.
        // Claimed by this caller, so that no closing job elsewhere calls closeorder for it at the same time; the
        // claim is released when it closes here, or lapses (then the closing job takes over).
        moved = await transition(order.id, 'unpaid', 'closing', { claimedUntil: new Date(now.getTime() + claimLeaseMs) }, undefined, { sentToWechatAt: { [Op.ne]: null } }, note);
        order = (await Order.findByPk(order.id))!;
    }

    // Not ours to finish (already closing: the closing job, or the caller that made it so, does it).
    if (order.status !== 'closing' || !moved) {
        return outcomeOf(order.status);
    }

    if (!closeWindowPassed(order, now)) {
        // WeChat will not close it yet; a payment made before the cancel is known at once, though.
        await applyQueriedPayment(context, order.outTradeNo, payFor(context, order));
        return outcomeOf((await Order.findByPk(order.id))!.status);
    }

    return finishClose(context, order, now);
}

function closeWindowPassed(order: Order, now: Date): boolean {
    return !order.sentToWechatAt || now.getTime() >= order.sentToWechatAt.getTime() + closeWindowMs;
}

/**
 * Closes a `closing` order at WeChat and then here, releasing its stock, once WeChat's close window has passed
 * (before that it stays `closing`). If WeChat says the trade was paid, the payment is applied and it becomes paid.
 */
export async function finishClose(context: PaymentContext, order: Order, now = new Date(context.clock.now())): Promise<CloseOutcome> {
    if (!closeWindowPassed(order, now)) {
        return 'closing';
    }

    const pay = payFor(context, order);
    try {
        await pay.closeOrder(order.outTradeNo);
    }
    catch (err) {
        // ORDERNOTEXIST after the window: unifiedorder never created the trade (it failed or timed out long ago).
        if (!(err instanceof PayError) || (err.errCode !== 'ORDERPAID' && err.errCode !== 'ORDERNOTEXIST')) {
            throw err;
        }

        if (err.errCode === 'ORDERPAID') {
            await applyQueriedPayment(context, order.outTradeNo, pay);
            return outcomeOf((await Order.findByPk(order.id))!.status);
        }
    }

    if (await closeHere(context.sequelize, order.id, 'closing', now)) {
        return 'closed';
    }

    return outcomeOf((await Order.findByPk(order.id))!.status);
}

/** WeChat said the trade is closed (orderquery CLOSED, unifiedorder ORDERCLOSED): close here too, from unpaid or closing. */
export async function closeClosedAtWechat(context: PaymentContext, order: Order, now = new Date(context.clock.now())): Promise<boolean> {
    return order.status === 'unpaid' || order.status === 'closing'
        ? closeHere(context.sequelize, order.id, order.status, now)
        : false;
}

/**
 * `from → closed` and the stock of its lines given back, atomically. An order that was sent to WeChat is then
 * watched for a while (a close can lag, a trade can be paid a little after time_expire): see `lateQueryDelayMs`.
 */
async function closeHere(sequelize: Sequelize, orderId: number, from: OrderStatus, now: Date, extraWhere: { sentToWechatAt?: null } = {}, note?: EventNote): Promise<boolean> {
    return sequelize.transaction(async (transaction) => {
        const watchAt = new Date(now.getTime() + lateQueryDelayMs(0)!);
        const closed = await transition(orderId, from, 'closed', {
            closedAt: now,
            claimedUntil: null,
            reconcileAttempts: 0,
            nextReconcileAt: extraWhere.sentToWechatAt === null ? null : watchAt
        }, transaction, extraWhere, note);
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

function outcomeOf(status: OrderStatus): CloseOutcome {
    switch (status) {
        case 'closed': return 'already_closed';
        case 'closing': return 'closing';
        case 'paid': return 'paid';
        default: return 'not_unpaid';
    }
}
