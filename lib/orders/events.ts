import { Sequelize, Transaction } from 'sequelize';

import { OrderEvent } from '../../models';
import type { ActorKind } from '../../models/order-event';
import { insertRows, sqlDate } from '../sql';
import { eventTypeOfStatusChange } from '../webhooks/event-types';
import { recordWebhookEvent } from '../webhooks/outbox';

/** Who made a change: a buyer (user id), WeChat, staff (later), or the system itself (jobs, reconciliation). */
export interface Actor {
    kind: ActorKind;
    id?: string | number | null;
}

/** What the audit trail says about a status change. */
export interface EventNote {
    actor: Actor;
    reason: string;
}

export const systemActor: Actor = { kind: 'system' };
export const wechatActor: Actor = { kind: 'wechat' };

/** An order by id, or by out_trade_no where the caller has only that (the payment path). */
export type OrderRef = { id: number } | { outTradeNo: string };

/**
 * Writes one audit row for a status change (`from` null: the order was created), and the webhook event the change
 * reports if it reports one (lib/webhooks/event-types.ts). It must be given the transaction
 * of the change itself, so that the row exists exactly when the change does. Raw SQL: it runs on every notification.
 */
export async function recordEvent(sequelize: Sequelize, order: OrderRef, from: string | null, to: string, note: EventNote, transaction: Transaction): Promise<void> {
    const id = 'id' in order
        ? { sql: '$1', value: order.id }
        : { sql: '(SELECT id FROM orders WHERE out_trade_no = $1)', value: order.outTradeNo };
    await insertRows(sequelize,
        `INSERT INTO order_events (order_id, from_status, to_status, actor_kind, actor_id, reason, created_at) VALUES (${id.sql}, $2, $3, $4, $5, $6, $7)`,
        [id.value, from, to, note.actor.kind, note.actor.id == null ? null : String(note.actor.id), note.reason.slice(0, 255), sqlDate(sequelize, new Date())],
        transaction);

    const webhookType = eventTypeOfStatusChange(from, to);
    if (webhookType) {
        await recordWebhookEvent(sequelize, order, webhookType, transaction);
    }
}

/** An order's status history, oldest first. */
export function orderHistory(orderId: number, transaction?: Transaction): Promise<OrderEvent[]> {
    return OrderEvent.findAll({ where: { orderId }, order: [['id', 'ASC']], transaction });
}
