import { Sequelize, Transaction, UniqueConstraintError } from 'sequelize';

import { Order, Refund, RefundRequest } from '../../models';
import type { MerchantModels } from '../../models/merchant';
import type { RefundRequestStatus } from '../../models/refund-request';
import type { MerchantActor } from '../merchant/actor';
import { recordAction } from '../merchant/audit';
import { merchantRefund } from '../merchant/refunds';
import { RefundContext, RefundRefused } from './context';

/** What a buyer sees of an after-sales request on their order, and the merchant in its list. */
export function refundRequestView(request: RefundRequest) {
    return {
        id: request.id,
        orderId: request.orderId,
        status: request.status,
        amount: request.amount,
        reason: request.reason,
        rejection: request.rejection ?? null,
        refundId: request.refundId ?? null,
        createdAt: request.createdAt,
        decidedAt: request.decidedAt ?? null
    };
}

/** Statuses a buyer may ask for a refund in: paid, or a refund already under way (a partial one). */
const requestableStatuses = ['paid', 'refunding'];

/**
 * A buyer's after-sales request on their own order: `amount` (fen) defaults to everything still refundable. At most
 * one open request per order (a unique index on `open_order_id`, so two at once make one); nothing is written on a refusal.
 */
export async function openRefundRequest(input: { orderId: number; userId: number; reason: string; amount?: number }): Promise<RefundRequest> {
    if (!input.reason.trim() || Buffer.byteLength(input.reason) > 80) {
        throw new RefundRefused(400, 'reason must be 1 to 80 bytes (it becomes the refund_desc WeChat shows the buyer)');
    }

    const order = await Order.findOne({ where: { id: input.orderId, userId: input.userId } });
    if (!order) {
        throw new RefundRefused(404, `Order ${input.orderId} does not exist`);
    }

    if (!requestableStatuses.includes(order.status)) {
        throw new RefundRefused(409, `an order that is ${order.status} cannot be refunded`);
    }

    const refundable = order.totalFee - order.refundReservedFee;
    const amount = input.amount ?? refundable;
    if (refundable <= 0 || amount > refundable) {
        throw new RefundRefused(409, `a refund of ${amount} fen exceeds the ${refundable} fen still refundable`);
    }

    try {
        return await RefundRequest.create({ orderId: order.id, userId: input.userId, openOrderId: order.id, status: 'open', amount, reason: input.reason });
    }
    catch (err) {
        if (err instanceof UniqueConstraintError) {
            throw new RefundRefused(409, 'this order already has an open refund request');
        }

        throw err;
    }
}

/** An order's view with its after-sales requests, as the buyer sees it. */
export async function withRefundRequests<T extends { id: number }>(view: T) {
    return { ...view, refundRequests: (await refundRequestsOf(view.id)).map(refundRequestView) };
}

/** An order's after-sales requests, oldest first. */
export function refundRequestsOf(orderId: number): Promise<RefundRequest[]> {
    return RefundRequest.findAll({ where: { orderId }, order: [['id', 'ASC']] });
}

export async function listRefundRequests(options: { status?: RefundRequestStatus; offset: number; limit: number }) {
    const { rows, count } = await RefundRequest.findAndCountAll({
        where: options.status ? { status: options.status } : {},
        order: [['id', 'DESC']],
        offset: options.offset,
        limit: options.limit
    });
    return { results: rows.map(refundRequestView), totalCount: count };
}

function decidedBy(actor: MerchantActor) {
    return { decidedByKind: actor.type, decidedById: actor.id, decidedAt: new Date() };
}

/**
 * One conditional UPDATE of a request (`WHERE status = :from`), audited in its transaction. Resolves to whether
 * this caller made the change.
 */
async function decide(models: MerchantModels, sequelize: Sequelize, actor: MerchantActor, requestId: number, from: RefundRequestStatus,
    changes: Partial<RefundRequest['_creationAttributes']>, action: string): Promise<boolean> {
    return sequelize.transaction(async (transaction: Transaction) => {
        const [affected] = await RefundRequest.update({ ...changes, ...decidedBy(actor) }, { where: { id: requestId, status: from }, transaction });
        if (affected === 1) {
            await recordAction(models, transaction, actor, action, { type: 'refund_request', id: requestId }, { from, ...changes });
        }

        return affected === 1;
    });
}

async function findRequest(requestId: number): Promise<RefundRequest> {
    const request = await RefundRequest.findByPk(requestId);
    if (!request) {
        throw new RefundRefused(404, `Refund request ${requestId} does not exist`);
    }

    return request;
}

function alreadyDecided(request: RefundRequest): RefundRefused {
    return new RefundRefused(409, `this refund request is already ${request.status}`);
}

/**
 * Approves an open request. It is claimed first (open → approving, conditional), so a rejection cannot overtake
 * it; then the refund is asked for with the request as its idempotency key (a retry of an approval left
 * `approving` makes no second refund), and the request becomes `approved` with the refund's id. A refund the
 * service refuses puts the request back to open and answers why.
 */
export async function approveRefundRequest(context: { refunds: RefundContext; models: MerchantModels; sequelize: Sequelize }, actor: MerchantActor, requestId: number): Promise<RefundRequest> {
    const request = await findRequest(requestId);
    const claimed = request.status === 'approving'
        || await decide(context.models, context.sequelize, actor, request.id, 'open', { status: 'approving' }, 'refund_request.approve');
    if (!claimed) {
        throw alreadyDecided((await RefundRequest.findByPk(request.id))!);
    }

    const idempotencyKey = `refund-request:${request.id}`;
    let refund: Refund;
    try {
        ({ refund } = await merchantRefund(context, actor, { orderId: request.orderId, amount: request.amount, reason: request.reason, idempotencyKey }));
    }
    catch (err) {
        // A second approval at the same moment is refused because the first one's refund took the amount: that refund is the answer.
        const made = err instanceof RefundRefused ? await Refund.findOne({ where: { orderId: request.orderId, idempotencyKey } }) : null;
        if (!made) {
            if (err instanceof RefundRefused) {
                await decide(context.models, context.sequelize, actor, request.id, 'approving', { status: 'open' }, 'refund_request.refund_refused');
            }

            throw err;
        }

        refund = made;
    }

    await decide(context.models, context.sequelize, actor, request.id, 'approving', { status: 'approved', openOrderId: null, refundId: refund.id }, 'refund_request.approved');
    const approved = (await RefundRequest.findByPk(request.id))!;
    if (approved.status !== 'approved') {
        throw alreadyDecided(approved);
    }

    return approved;
}

/** Rejects an open request with the merchant's reason, which the buyer sees on the order. */
export async function rejectRefundRequest(context: { models: MerchantModels; sequelize: Sequelize }, actor: MerchantActor, requestId: number, rejection: string): Promise<RefundRequest> {
    const request = await findRequest(requestId);
    if (!await decide(context.models, context.sequelize, actor, request.id, 'open', { status: 'rejected', openOrderId: null, rejection }, 'refund_request.reject')) {
        throw alreadyDecided((await RefundRequest.findByPk(request.id))!);
    }

    return (await RefundRequest.findByPk(request.id))!;
}
