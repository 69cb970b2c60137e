import type { Refund } from '../../models';

/** The public shape of a refund: camelCase, money in fen, nothing internal (claims, request hash). */
export function refundView(refund: Refund) {
    return {
        id: refund.id,
        orderId: refund.orderId,
        outRefundNo: refund.outRefundNo,
        amount: refund.amount,
        reason: refund.reason,
        restock: refund.restock,
        status: refund.status,
        /** false while a processing refund waits for WeChat's one-minute spacing */
        submitted: refund.submittedAt !== null,
        refundId: refund.refundId,
        wechatStatus: refund.wechatStatus,
        failure: refund.failure,
        requestedBy: { kind: refund.actorKind, id: refund.actorId },
        createdAt: refund.createdAt,
        finishedAt: refund.finishedAt
    };
}
