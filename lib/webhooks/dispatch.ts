import { Sequelize } from 'sequelize';

import type { WebhookConfig } from '../../config';
import { Order, OrderItem, WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../../models';
import { orderView } from '../orders/view';

/** The body every delivery of an event sends: `{id, type, createdAt, data: {object}}`. */
export function eventBody(event: WebhookEvent, object: unknown): string {
    return JSON.stringify({ id: event.publicId, type: event.type, createdAt: event.createdAt.toISOString(), data: { object } });
}

/**
 * Turns outbox events into deliveries: the body is fixed (the order as it stands now) and one pending delivery is
 * made per enabled endpoint subscribed to the type, in one transaction guarded by `WHERE dispatched_at IS NULL`, so
 * of several instances exactly one dispatches an event. Resolves to the number of events dispatched.
 */
export async function dispatchEvents(sequelize: Sequelize, config: WebhookConfig, now: Date, batch: number): Promise<number> {
    const events = await WebhookEvent.findAll({ where: { dispatchedAt: null }, order: [['id', 'ASC']], limit: batch });
    if (!events.length) {
        return 0;
    }

    const endpoints = await WebhookEndpoint.findAll({ where: { enabled: true }, attributes: ['id', 'eventTypes'] });
    let dispatched = 0;
    for (const event of events) {
        const order = event.orderId === null ? null : await Order.findByPk(event.orderId, { include: [{ model: OrderItem, as: 'items' }] });
        const payload = eventBody(event, order ? orderView(order) : null);
        const subscribers = endpoints.filter((endpoint) => endpoint.eventTypes.split(' ').includes(event.type));
        await sequelize.transaction(async (transaction) => {
            const [claimed] = await WebhookEvent.update({ dispatchedAt: now, payload }, { where: { id: event.id, dispatchedAt: null }, transaction });
            if (claimed !== 1) {
                return;
            }

            ++dispatched;
            if (subscribers.length) {
                await WebhookDelivery.bulkCreate(subscribers.map((endpoint) => ({
                    eventId: event.id,
                    endpointId: endpoint.id,
                    status: 'pending' as const,
                    nextAttemptAt: now,
                    giveUpAt: new Date(now.getTime() + config.retryForSeconds * 1000)
                })), { transaction });
            }
        });
    }

    return dispatched;
}
