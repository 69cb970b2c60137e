import * as Crypto from 'crypto';

import { Transaction, UniqueConstraintError } from 'sequelize';

import { ActorKind, Order, Refund } from '../../models';
import { transition } from '../orders/status';
import { changeRows, sqlDate } from '../sql';
import { formatBeijingCompact } from '../wechatpay/time';
import { maxRefundsPerOrder, RefundContext, RefundRefused } from './context';
import { needsMerchantCertificate } from './gateway';
import { submitQueuedRefund } from './submit';

export interface RefundInput {
    orderId: number;
    /** fen */
    amount: number;
    reason: string;
    restock?: boolean;
    actor: { kind: ActorKind; id?: string | number | null };
    idempotencyKey?: string;
    /** Runs in the transaction that makes the refund (not on a replay): the caller's audit row. */
    audit?: (refund: Refund, transaction: Transaction) => Promise<void>;
}

export interface RequestedRefund {
    refund: Refund;
    /** The idempotency key was used before with the same request: this is the refund it made. */
    replayed: boolean;
}

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The configured prefix (one per environment sharing the mch_id), Beijing time, 16 random letters and digits. */
export function newOutRefundNo(prefix: string, now: Date): string {
    const random = Array.from(Crypto.randomBytes(16), (byte) => alphabet[byte % alphabet.length]).join('');
    return `${prefix}${formatBeijingCompact(now)}${random}`;
}

function checkInput(input: RefundInput): void {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
        throw new RefundRefused(400, 'amount must be a positive integer number of fen');
    }

    if (typeof input.reason !== 'string' || !input.reason.trim() || Buffer.byteLength(input.reason) > 80) {
        throw new RefundRefused(400, 'reason must be 1 to 80 bytes (WeChat shows it to the buyer as refund_desc)');
    }

    if (input.idempotencyKey !== undefined && !/^[\x21-\x7e]{1,128}$/.test(input.idempotencyKey)) {
        throw new RefundRefused(400, 'an idempotency key is 1 to 128 printable ASCII characters');
    }
}

function requestHash(input: RefundInput): string {
    return Crypto.createHash('sha256').update(JSON.stringify([input.orderId, input.amount, input.reason, Boolean(input.restock)])).digest('hex');
}

/**
 * Asks for a refund of part or all of a paid order. The amount is reserved on the order with one guarded UPDATE
 * (the sum of refunds never exceeds what was paid, at most 50 per order) and the refund is written with its
 * out_refund_no before WeChat hears of it; then it is sent at once, or queued when WeChat's one-minute spacing
 * between refunds of one order is not over (a job sends it). Resolves with the refund as it then stands:
 * `processing` until WeChat's notification or refundquery says how it ended.
 */
export async function requestRefund(context: RefundContext, input: RefundInput): Promise<RequestedRefund> {
    if (!context.config.clientCertificate && await needsMerchantCertificate(context, input.orderId)) {
        throw new RefundRefused(503, 'refunds need the merchant API certificate: set WECHATPAY_CERT and WECHATPAY_CERT_KEY, or WECHATPAY_PFX');
    }

    checkInput(input);
    const hash = requestHash(input);
    const replay = await findReplay(input, hash);
    if (replay) {
        return { refund: replay, replayed: true };
    }

    const now = new Date(context.clock.now());
    let refund: Refund;
    try {
        refund = await context.sequelize.transaction(async (transaction) => {
            const reserved = await changeRows(context.sequelize,
                'UPDATE orders SET refund_reserved_fee = refund_reserved_fee + $1, refund_count = refund_count + 1, updated_at = $2 ' +
                'WHERE id = $3 AND refund_reserved_fee + $1 <= total_fee AND refund_count < $4 ' +
                'AND (status IN ($5, $6) OR (status = $7 AND refund_required = $8))',
                [input.amount, sqlDate(context.sequelize, now), input.orderId, maxRefundsPerOrder, 'paid', 'refunding', 'closed', true],
                transaction);
            const order = await Order.findByPk(input.orderId, { transaction });
            if (!reserved) {
                throw whyNotRefundable(order, input.amount);
            }

            if (order!.status === 'paid') {
                await transition(order!.id, 'paid', 'refunding', {}, transaction);
            }

            const made = await Refund.create({
                orderId: input.orderId,
                outRefundNo: newOutRefundNo(context.config.refundNoPrefix, now),
                status: 'processing',
                amount: input.amount,
                reason: input.reason,
                restock: Boolean(input.restock),
                actorKind: input.actor.kind,
                actorId: input.actor.id === undefined || input.actor.id === null ? null : String(input.actor.id),
                idempotencyKey: input.idempotencyKey ?? null,
                requestHash: hash,
                nextAttemptAt: now
            }, { transaction });
            await input.audit?.(made, transaction);
            return made;
        });
    }
    catch (err) {
        // The same idempotency key at the same moment: the other request made the refund, this one answers it.
        if (err instanceof UniqueConstraintError && input.idempotencyKey !== undefined) {
            const made = await findReplay(input, hash);
            if (made) {
                return { refund: made, replayed: true };
            }
        }

        throw err;
    }

    await submitQueuedRefund(context, refund.id, now);
    return { refund: (await Refund.findByPk(refund.id))!, replayed: false };
}

async function findReplay(input: RefundInput, hash: string): Promise<Refund | undefined> {
    if (input.idempotencyKey === undefined) {
        return undefined;
    }

    const earlier = await Refund.findOne({ where: { orderId: input.orderId, idempotencyKey: input.idempotencyKey } });
    if (earlier && earlier.requestHash !== hash) {
        throw new RefundRefused(409, 'this idempotency key was used for another refund request');
    }

    return earlier ?? undefined;
}

function whyNotRefundable(order: Order | null, amount: number): RefundRefused {
    if (!order) {
        return new RefundRefused(404, 'order not found');
    }

    if (order.status !== 'paid' && order.status !== 'refunding' && !(order.status === 'closed' && order.refundRequired)) {
        return new RefundRefused(409, `an order that is ${order.status} cannot be refunded`);
    }

    if (order.refundCount >= maxRefundsPerOrder) {
        return new RefundRefused(409, `WeChat allows at most ${maxRefundsPerOrder} refunds per order`);
    }

    return new RefundRefused(409, `a refund of ${amount} fen exceeds the ${order.totalFee - order.refundReservedFee} fen still refundable`);
}
