import type { V3Notification } from '../wechatpay/v3/notify';
import type { RefundStatus } from '../wechatpay/v3/resources';
import type { RefundContext } from './context';
import { applyRefundEnd, NotificationResult } from './notification';
import type { RefundEnd } from './settle';

/** v3's refund statuses and what they make of a refund: ABNORMAL (card frozen...) needs a person, as v2's CHANGE. */
export const endOfV3: Record<Exclude<RefundStatus, 'PROCESSING'>, RefundEnd> = {
    SUCCESS: 'succeeded',
    ABNORMAL: 'failed',
    CLOSED: 'closed'
};

/** A verified, decrypted v3 refund notification (REFUND.SUCCESS|ABNORMAL|CLOSED) settles the refund it names. */
export async function applyRefundNotificationV3(context: RefundContext, notification: V3Notification): Promise<NotificationResult> {
    if (notification.kind !== 'refund') {
        return { outcome: 'rejected', reason: 'a payment notification at the refund notify URL' };
    }

    const { refund } = notification;
    if (refund.status === 'PROCESSING') {
        return { outcome: 'ignored', reason: `refund ${refund.outRefundNo} is still processing` };
    }

    return applyRefundEnd(context, {
        outRefundNo: refund.outRefundNo,
        outTradeNo: refund.outTradeNo,
        refundFee: refund.refund,
        end: endOfV3[refund.status],
        wechatStatus: refund.status,
        refundId: refund.refundId
    });
}
