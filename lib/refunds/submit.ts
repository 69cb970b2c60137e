import { Op } from 'sequelize';

import { Order, Refund } from '../../models';
import { PayError } from '../wechatpay/client';
import type { RefundContext } from './context';
import { refundPayFor } from './gateway';
import { settleRefund } from './settle';

/** WeChat wants refunds of one order a minute apart (reference §2.8); a second more for clocks that differ. */
export const refundSpacingMs = 61_000;
const claimMs = 60_000;

/** Errors worth sending the same out_refund_no again later: WeChat's "retry" codes, rate limits, no balance yet. */
const retryLater = new Set(['SYSTEMERROR', 'BIZERR_NEED_RETRY', 'FREQUENCY_LIMITED', 'INVALID_REQ_TOO_MUCH', 'NOTENOUGH', 'USER_ACCOUNT_ABNORMAL']);

/** Seconds until the next try of a send (by attempts so far), then of a refundquery. */
const sendBackoff = [5, 15, 30, 60, 120, 300, 600];
export const queryBackoff = [10, 30, 60, 120, 300, 600, 1800, 3600];

export function backoffMs(table: number[], attempts: number): number {
    return table[Math.min(attempts, table.length - 1)] * 1000;
}

/** Claims a refund row for a minute with one conditional UPDATE; `where` says which state it must still be in. */
export async function claimRefund(refundId: number, now: Date, where: object): Promise<boolean> {
    const [claimed] = await Refund.update({ claimedUntil: new Date(now.getTime() + claimMs) }, {
        where: { id: refundId, status: 'processing', ...where, [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] }
    });
    return claimed === 1;
}

/**
 * Sends a queued refund to WeChat if its order's one-minute spacing allows (taken with a guarded UPDATE of
 * orders.refund_submitted_at, so two instances never send two refunds of one order within the minute); otherwise
 * it stays queued until the spacing is over. The same out_refund_no goes out on every try.
 */
export async function submitQueuedRefund(context: RefundContext, refundId: number, now = new Date(context.clock.now())): Promise<void> {
    if (!await claimRefund(refundId, now, { submittedAt: null })) {
        return;
    }

    const refund = (await Refund.findByPk(refundId))!;
    const [slot] = await Order.update({ refundSubmittedAt: now }, {
        where: { id: refund.orderId, [Op.or]: [{ refundSubmittedAt: null }, { refundSubmittedAt: { [Op.lte]: new Date(now.getTime() - refundSpacingMs) } }] }
    });
    const order = (await Order.findByPk(refund.orderId))!;
    if (!slot) {
        await Refund.update({ claimedUntil: null, nextAttemptAt: new Date(order.refundSubmittedAt!.getTime() + refundSpacingMs) }, { where: { id: refundId } });
        return;
    }

    try {
        const { refundId: wechatRefundId } = await refundPayFor(context, order).submit({
            outTradeNo: order.outTradeNo,
            outRefundNo: refund.outRefundNo,
            totalFee: order.totalFee,
            refundFee: refund.amount,
            reason: refund.reason,
            notifyUrl: context.notifyUrl()
        });
        await Refund.update({
            submittedAt: now,
            refundId: wechatRefundId,
            attempts: refund.attempts + 1,
            nextAttemptAt: new Date(now.getTime() + backoffMs(queryBackoff, 0)),
            claimedUntil: null
        }, { where: { id: refundId, status: 'processing' } });
    }
    catch (err) {
        if (!(err instanceof PayError)) {
            throw err;
        }

        if (err.transient || retryLater.has(err.errCode ?? '')) {
            context.log(`refund ${refund.outRefundNo} not sent (${err.message}); trying again with the same out_refund_no`);
            await Refund.update({
                attempts: refund.attempts + 1,
                failure: err.message.slice(0, 256),
                nextAttemptAt: new Date(now.getTime() + Math.max(backoffMs(sendBackoff, refund.attempts), err.errCode === 'FREQUENCY_LIMITED' ? refundSpacingMs : 0)),
                claimedUntil: null
            }, { where: { id: refundId, status: 'processing' } });
            return;
        }

        await settleRefund(context, refundId, 'failed', { wechatStatus: err.errCode ?? 'FAIL', failure: err.message.slice(0, 256) });
    }
}
