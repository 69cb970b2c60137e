import { Op } from 'sequelize';

import { IdempotencyKey } from '../../models';

/** Idempotency keys are kept 24 hours, then forgotten. */
const idempotencyKeyTtlMs = 24 * 3600_000;

export async function purgeIdempotencyKeys(now = new Date()): Promise<number> {
    return IdempotencyKey.destroy({ where: { createdAt: { [Op.lt]: new Date(now.getTime() - idempotencyKeyTtlMs) } } });
}
