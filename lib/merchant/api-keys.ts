import * as Crypto from 'crypto';

import { Op, Sequelize } from 'sequelize';

import type { ApiKey, MerchantModels } from '../../models/merchant';
import type { MerchantActor } from './actor';
import { recordAction } from './audit';

/** What an API key may do. Staff roles are separate (lib/merchant/access.ts maps routes to both). */
export const apiKeyScopes = ['merchant:read', 'goods:write', 'orders:read', 'orders:write', 'refunds:write', 'payments'] as const;
export type ApiKeyScope = typeof apiKeyScopes[number];

/** Every key starts with this, so a key is recognisable (in logs, in secret scanners) and told from a staff JWT. */
export const apiKeyPrefix = 'wxk_';

/** last_used_at is written at most this often per key: not a write on every request. */
const touchEveryMs = 60_000;

/**
 * The stored form of a key: HMAC-SHA256 under a server secret. A key is 256 random bits, so unlike a password it
 * needs no slow hash (nobody can guess it); a keyed hash also means a copy of the database alone cannot even
 * check a candidate key. Lookup is one indexed read by this hash.
 */
export function hashApiKey(secret: string, key: string): string {
    return Crypto.createHmac('sha256', secret).update(key).digest('hex');
}

/** A new key, audited; the key itself is in the answer only (the database keeps its hash). */
export async function createApiKey(models: MerchantModels, sequelize: Sequelize, secret: string, actor: MerchantActor, input: { name: string; scopes: ApiKeyScope[] }) {
    const key = `${apiKeyPrefix}${Crypto.randomBytes(32).toString('base64url')}`;
    const scopes = [...new Set(input.scopes)];
    const row = await sequelize.transaction(async (transaction) => {
        const created = await models.ApiKey.create({
            name: input.name,
            keyHash: hashApiKey(secret, key),
            keyPrefix: key.slice(0, 12),
            scopes: scopes.join(' '),
            createdBy: actor.id
        }, { transaction });
        await recordAction(models, transaction, actor, 'api_key.create', { type: 'api_key', id: created.id }, { name: input.name, scopes });
        return created;
    });
    return { row, key };
}

/** Revokes a key (audited; a revoked key stays as it was). Undefined when there is no such key. */
export async function revokeApiKey(models: MerchantModels, sequelize: Sequelize, actor: MerchantActor, id: number): Promise<ApiKey | undefined> {
    return sequelize.transaction(async (transaction) => {
        const key = await models.ApiKey.findByPk(id, { transaction });
        if (!key) {
            return undefined;
        }

        const [revoked] = await models.ApiKey.update({ revokedAt: new Date() }, { where: { id, revokedAt: null }, transaction });
        if (revoked) {
            await recordAction(models, transaction, actor, 'api_key.revoke', { type: 'api_key', id }, { name: key.name });
        }

        return (await models.ApiKey.findByPk(id, { transaction }))!;
    });
}

/** The live (not revoked) key this secret is, or undefined. Touches last_used_at when it is a minute old. */
export async function authenticateApiKey(models: MerchantModels, secret: string, key: string, now = new Date()): Promise<ApiKey | undefined> {
    const row = await models.ApiKey.findOne({ where: { keyHash: hashApiKey(secret, key) } });
    if (!row || row.revokedAt) {
        return undefined;
    }

    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= touchEveryMs) {
        // Conditional, so instances racing on one key write once.
        const stale = new Date(now.getTime() - touchEveryMs);
        await models.ApiKey.update({ lastUsedAt: now }, {
            where: { id: row.id, [Op.or]: [{ lastUsedAt: null }, { lastUsedAt: { [Op.lte]: stale } }] },
            silent: true
        });
    }

    return row;
}

export function apiKeyView(row: ApiKey) {
    return {
        id: row.id,
        name: row.name,
        prefix: row.keyPrefix,
        scopes: row.scopes.split(' ').filter(Boolean),
        createdAt: row.createdAt,
        lastUsedAt: row.lastUsedAt ?? null,
        revokedAt: row.revokedAt ?? null
    };
}
