import { Op } from 'sequelize';

import { Order, Payment, Refund } from '../../models';
import { RefundContext, RefundRefused } from './context';
import { refundPayFor } from './gateway';
import { requestRefund } from './request';
import { endOf, settleRefund } from './settle';
import { backoffMs, claimRefund, queryBackoff, submitQueuedRefund } from './submit';

/** Sends the queued refunds whose time has come (WeChat's one-minute spacing, or a retry's backoff). */
export async function submitQueuedRefunds(context: RefundContext, now = new Date(context.clock.now()), batch = 50): Promise<number> {
    const due = await Refund.findAll({
        where: { status: 'processing', submittedAt: null, nextAttemptAt: { [Op.lte]: now } },
        attributes: ['id'],
        order: [['nextAttemptAt', 'ASC']],
        limit: batch
    });
    for (const { id } of due) {
        try {
            await submitQueuedRefund(context, id, now);
        }
        catch (err) {
            context.log(`sending refund ${id} failed, next pass retries: ${(err as Error).message}`);
        }
    }

    return due.length;
}

/**
 * Refund notifications get lost: asks WeChat (refundquery) about refunds it accepted that are still processing,
 * on a backoff, and ends them as a notification would. Returns how many it ended.
 */
export async function reconcileRefunds(context: RefundContext, now = new Date(context.clock.now()), batch = 50): Promise<number> {
    const due = await Refund.findAll({
        where: { status: 'processing', submittedAt: { [Op.ne]: null }, nextAttemptAt: { [Op.lte]: now } },
        order: [['nextAttemptAt', 'ASC']],
        limit: batch
    });
    let ended = 0;
    for (const refund of due) {
        if (!await claimRefund(refund.id, now, { submittedAt: { [Op.ne]: null } })) {
            continue;
        }

        try {
            const order = (await Order.findByPk(refund.orderId, { attributes: ['id', 'payApiVersion', 'sentToWechatAt'] }))!;
            const state = await refundPayFor(context, order).query(refund.outRefundNo);
            if (state && state.status !== 'PROCESSING') {
                ended += await settleRefund(context, refund.id, endOf[state.status], { wechatStatus: state.status, refundId: state.refundId }) ? 1 : 0;
                continue;
            }

            if (!state) {
                context.log(`refundquery does not know refund ${refund.outRefundNo}, which WeChat accepted: asking again later`);
            }
        }
        catch (err) {
            context.log(`refundquery of ${refund.outRefundNo} failed, will retry: ${(err as Error).message}`);
        }

        await Refund.update({ attempts: refund.attempts + 1, nextAttemptAt: new Date(now.getTime() + backoffMs(queryBackoff, refund.attempts)), claimedUntil: null },
            { where: { id: refund.id, status: 'processing' } });
    }

    return ended;
}

/**
 * Money that arrived for an order already closed (payments.outcome = refund_required) goes back to the payer in
 * full, once: the idempotency key names the payment's transaction_id.
 */
export async function refundLatePayments(context: RefundContext, batch = 50): Promise<number> {
    if (!context.config.autoRefundLatePayments || !context.config.clientCertificate) {
        return 0;
    }

    const orders = await Order.findAll({ where: { refundRequired: true, status: 'closed' }, attributes: ['id'], order: [['id', 'ASC']], limit: batch });
    const payments = orders.length ? await Payment.findAll({ where: { orderId: orders.map((order) => order.id), outcome: 'refund_required' } }) : [];
    let asked = 0;
    for (const payment of payments) {
        try {
            const { replayed } = await requestRefund(context, {
                orderId: payment.orderId,
                amount: payment.totalFee,
                reason: '订单已关闭，退回款项',
                actor: { kind: 'system', id: 'late-payment' },
                idempotencyKey: `late-payment:${payment.transactionId}`
            });
            asked += replayed ? 0 : 1;
        }
        catch (err) {
            if (!(err instanceof RefundRefused)) {
                throw err;
            }

            context.log(`order ${payment.orderId}: the late payment ${payment.transactionId} cannot be refunded automatically: ${err.message}`);
        }
    }

    return asked;
}

/** One pass of every refund job. */
export async function runRefundJobs(context: RefundContext, now = new Date(context.clock.now())): Promise<void> {
    await refundLatePayments(context);
    await submitQueuedRefunds(context, now);
    await reconcileRefunds(context, now);
}
