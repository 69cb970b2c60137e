import * as Crypto from 'crypto';

import { Sequelize, Transaction } from 'sequelize';

import type { OrderRef } from '../orders/events';
import { insertRows, sqlDate } from '../sql';
import type { WebhookEventType } from './event-types';

/** A new event id: what receivers dedupe on. */
export function newEventId(): string {
    return `evt_${Crypto.randomBytes(18).toString('base64url')}`;
}

/**
 * Writes an event into the outbox: one INSERT, in the transaction of the change it reports, so the event exists
 * exactly when the change does. Endpoints, the body and the deliveries are worked out later by the dispatch job
 * (lib/webhooks/dispatch.ts), off the hot path.
 */
export async function recordWebhookEvent(sequelize: Sequelize, order: OrderRef, type: WebhookEventType, transaction: Transaction): Promise<void> {
    const orderId = 'id' in order
        ? { sql: '$3', value: order.id }
        : { sql: '(SELECT id FROM orders WHERE out_trade_no = $3)', value: order.outTradeNo };
    await insertRows(sequelize,
        `INSERT INTO webhook_events (public_id, type, order_id, created_at) VALUES ($1, $2, ${orderId.sql}, $4)`,
        [newEventId(), type, orderId.value, sqlDate(sequelize, new Date())],
        transaction);
}
