import { Sequelize, Transaction } from 'sequelize';

import type { WebhookConfig } from '../../config';
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '../../models';
import type { MerchantModels } from '../../models/merchant';
import type { MerchantActor } from '../merchant/actor';
import { recordAction } from '../merchant/audit';
import { checkUrlSyntax, resolveCheckedAddress } from './address';
import type { WebhookEventType } from './event-types';
import { deriveSecret, newSecretSalt } from './secrets';

export function endpointView(endpoint: WebhookEndpoint) {
    return {
        id: endpoint.id,
        url: endpoint.url,
        description: endpoint.description,
        eventTypes: endpoint.eventTypes.split(' ').filter(Boolean),
        enabled: endpoint.enabled,
        disabledReason: endpoint.disabledReason ?? null,
        failingSince: endpoint.failingSince ?? null,
        previousSecretExpiresAt: endpoint.previousSecretExpiresAt ?? null,
        createdAt: endpoint.createdAt,
        updatedAt: endpoint.updatedAt
    };
}

/** An endpoint URL as registration checks it: syntax, and (unless private addresses are allowed) where DNS sends it. */
export async function checkEndpointUrl(config: WebhookConfig, value: string): Promise<void> {
    await resolveCheckedAddress(checkUrlSyntax(value, config), config);
}

const target = (id: number) => ({ type: 'webhook', id });

export async function createEndpoint(models: MerchantModels, sequelize: Sequelize, config: WebhookConfig, actor: MerchantActor,
    input: { url: string; eventTypes: WebhookEventType[]; description?: string }) {
    await checkEndpointUrl(config, input.url);
    const eventTypes = [...new Set(input.eventTypes)];
    return sequelize.transaction(async (transaction) => {
        const endpoint = await WebhookEndpoint.create({
            url: input.url,
            description: input.description ?? '',
            eventTypes: eventTypes.join(' '),
            secretSalt: newSecretSalt(),
            createdBy: actor.id
        }, { transaction });
        await recordAction(models, transaction, actor, 'webhook.create', target(endpoint.id), { url: input.url, eventTypes });
        return { endpoint, secret: deriveSecret(config.secretKey, endpoint.secretSalt) };
    });
}

export interface EndpointChanges {
    url?: string;
    eventTypes?: WebhookEventType[];
    description?: string;
    enabled?: boolean;
}

/** Undefined when there is no such endpoint. Enabling an endpoint clears its failure record. */
export async function updateEndpoint(models: MerchantModels, sequelize: Sequelize, config: WebhookConfig, actor: MerchantActor, id: number, changes: EndpointChanges) {
    if (changes.url !== undefined) {
        await checkEndpointUrl(config, changes.url);
    }

    return withEndpoint(sequelize, id, async (endpoint, transaction) => {
        const before = endpointView(endpoint);
        await endpoint.update({
            ...(changes.url !== undefined ? { url: changes.url } : {}),
            ...(changes.description !== undefined ? { description: changes.description } : {}),
            ...(changes.eventTypes ? { eventTypes: [...new Set(changes.eventTypes)].join(' ') } : {}),
            ...(changes.enabled === true ? { enabled: true, failingSince: null, disabledReason: null } : {}),
            ...(changes.enabled === false ? { enabled: false, disabledReason: 'disabled by staff' } : {})
        }, { transaction });
        await recordAction(models, transaction, actor, 'webhook.update', target(id), { before, after: endpointView(endpoint) });
        return endpoint;
    });
}

/** A new secret (in the answer only); the previous one keeps signing for the configured overlap. */
export async function rotateSecret(models: MerchantModels, sequelize: Sequelize, config: WebhookConfig, actor: MerchantActor, id: number, now = new Date()) {
    return withEndpoint(sequelize, id, async (endpoint, transaction) => {
        const overlapping = config.secretOverlapSeconds > 0;
        await endpoint.update({
            secretSalt: newSecretSalt(),
            previousSecretSalt: overlapping ? endpoint.secretSalt : null,
            previousSecretExpiresAt: overlapping ? new Date(now.getTime() + config.secretOverlapSeconds * 1000) : null
        }, { transaction });
        await recordAction(models, transaction, actor, 'webhook.rotate_secret', target(id), { previousSecretExpiresAt: endpoint.previousSecretExpiresAt });
        return { endpoint, secret: deriveSecret(config.secretKey, endpoint.secretSalt) };
    });
}

/** Deletes the endpoint with its deliveries and their log. Undefined when there is no such endpoint. */
export async function deleteEndpoint(models: MerchantModels, sequelize: Sequelize, actor: MerchantActor, id: number) {
    return withEndpoint(sequelize, id, async (endpoint, transaction) => {
        const deliveries = (await WebhookDelivery.findAll({ where: { endpointId: id }, attributes: ['id'], transaction })).map((row) => row.id);
        if (deliveries.length) {
            await WebhookAttempt.destroy({ where: { deliveryId: deliveries }, transaction });
            await WebhookDelivery.destroy({ where: { endpointId: id }, transaction });
        }

        await endpoint.destroy({ transaction });
        await recordAction(models, transaction, actor, 'webhook.delete', target(id), { url: endpoint.url, deliveries: deliveries.length });
        return endpoint;
    });
}

function withEndpoint<T>(sequelize: Sequelize, id: number, work: (endpoint: WebhookEndpoint, transaction: Transaction) => Promise<T>): Promise<T | undefined> {
    return sequelize.transaction(async (transaction) => {
        const endpoint = await WebhookEndpoint.findByPk(id, { transaction, lock: transaction.LOCK.UPDATE });
        return endpoint ? work(endpoint, transaction) : undefined;
    });
}
