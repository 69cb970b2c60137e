import { Sequelize } from 'sequelize';

import type { WebhookConfig } from '../../config';
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../../models';

function attemptView(attempt: WebhookAttempt) {
    return {
        attemptedAt: attempt.attemptedAt,
        succeeded: attempt.succeeded,
        statusCode: attempt.statusCode,
        latencyMs: attempt.latencyMs,
        error: attempt.error,
        responseSnippet: attempt.responseSnippet
    };
}

function deliveryView(delivery: WebhookDelivery, event: WebhookEvent, attempts: WebhookAttempt[]) {
    return {
        id: delivery.id,
        endpointId: delivery.endpointId,
        eventId: event.publicId,
        eventType: event.type,
        status: delivery.status,
        attempts: attempts.map(attemptView),
        nextAttemptAt: delivery.nextAttemptAt ?? null,
        createdAt: delivery.createdAt
    };
}

async function viewsOf(deliveries: WebhookDelivery[]) {
    const ids = deliveries.map((row) => row.id);
    const events = new Map((await WebhookEvent.findAll({ where: { id: [...new Set(deliveries.map((row) => row.eventId))] }, attributes: ['id', 'publicId', 'type'] }))
        .map((event) => [event.id, event]));
    const attempts = ids.length ? await WebhookAttempt.findAll({ where: { deliveryId: ids }, order: [['id', 'ASC']] }) : [];
    return deliveries.map((delivery) => deliveryView(delivery, events.get(delivery.eventId)!, attempts.filter((attempt) => attempt.deliveryId === delivery.id)));
}

/** An endpoint's deliveries, newest first, each with its attempts (oldest first). Undefined: no such endpoint. */
export async function endpointDeliveries(endpointId: number, page: number, limit: number) {
    if (!await WebhookEndpoint.findByPk(endpointId, { attributes: ['id'] })) {
        return undefined;
    }

    const { rows, count } = await WebhookDelivery.findAndCountAll({ where: { endpointId }, order: [['id', 'DESC']], limit, offset: (page - 1) * limit });
    return { results: await viewsOf(rows), totalCount: count };
}

export class RedeliveryRefused extends Error {}

/**
 * A manual redelivery: a new delivery of the same event (same id and body: receivers dedupe on the id) to the same
 * endpoint, due at once, with a full retry window. Undefined: no such delivery. The endpoint must be enabled.
 */
export async function redeliver(sequelize: Sequelize, config: WebhookConfig, deliveryId: number, now = new Date()) {
    const original = await WebhookDelivery.findByPk(deliveryId);
    if (!original) {
        return undefined;
    }

    const endpoint = await WebhookEndpoint.findByPk(original.endpointId);
    if (!endpoint?.enabled) {
        throw new RedeliveryRefused(`endpoint ${original.endpointId} is disabled: enable it first`);
    }

    const created = await WebhookDelivery.create({
        eventId: original.eventId,
        endpointId: original.endpointId,
        status: 'pending',
        nextAttemptAt: now,
        giveUpAt: new Date(now.getTime() + config.retryForSeconds * 1000)
    });
    return (await viewsOf([created]))[0];
}
