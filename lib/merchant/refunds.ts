import type { MerchantModels } from '../../models/merchant';
import type { RefundContext } from '../refunds/context';
import { requestRefund, RequestedRefund } from '../refunds/request';
import type { MerchantActor } from './actor';
import { recordAction } from './audit';

/** A refund a staff member or an API key asks for, audited in the transaction that makes it (a replay writes nothing). */
export function merchantRefund(context: { refunds: RefundContext; models: MerchantModels }, actor: MerchantActor,
    input: { orderId: number; amount: number; reason: string; restock?: boolean; idempotencyKey?: string }): Promise<RequestedRefund> {
    return requestRefund(context.refunds, {
        ...input,
        actor: { kind: actor.type, id: actor.id },
        audit: (refund, transaction) => recordAction(context.models, transaction, actor, 'refund.create', { type: 'order', id: input.orderId },
            { refundId: refund.id, outRefundNo: refund.outRefundNo, amount: refund.amount, reason: refund.reason, restock: refund.restock })
    });
}
