import type { Transaction } from 'sequelize';

import type { MerchantModels } from '../../models/merchant';
import type { MerchantActor } from './actor';

/** Records a merchant action (who, what, when, the change) in the transaction that makes the change. */
export async function recordAction(models: MerchantModels, transaction: Transaction, actor: MerchantActor, action: string, target: { type: string; id: number }, details: object): Promise<void> {
    await models.MerchantAction.create({
        actorType: actor.type,
        actorId: actor.id,
        action,
        targetType: target.type,
        targetId: target.id,
        details: JSON.stringify(details)
    }, { transaction });
}
