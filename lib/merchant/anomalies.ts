import type { Sequelize } from 'sequelize';

import { PaymentAnomaly } from '../../models';
import type { MerchantModels } from '../../models/merchant';
import type { MerchantActor } from './actor';
import { recordAction } from './audit';

export function anomalyView(anomaly: PaymentAnomaly) {
    return {
        id: anomaly.id,
        kind: anomaly.kind,
        source: anomaly.source,
        outTradeNo: anomaly.outTradeNo,
        transactionId: anomaly.transactionId,
        totalFee: anomaly.totalFee,
        orderId: anomaly.orderId,
        orderTotalFee: anomaly.orderTotalFee,
        reason: anomaly.reason,
        createdAt: anomaly.createdAt,
        resolvedAt: anomaly.resolvedAt,
        resolution: anomaly.resolution
    };
}

/**
 * Marks an anomaly resolved with what a person did about it: one conditional UPDATE (`WHERE resolved_at IS NULL`),
 * so it is resolved once, audited in the same transaction.
 */
export async function resolveAnomaly(models: MerchantModels, sequelize: Sequelize, actor: MerchantActor, anomalyId: number, resolution: string): Promise<'resolved' | 'not_found' | 'already_resolved'> {
    return sequelize.transaction(async (transaction) => {
        const [affected] = await PaymentAnomaly.update({ resolvedAt: new Date(), resolution }, { where: { id: anomalyId, resolvedAt: null }, transaction });
        if (affected === 1) {
            await recordAction(models, transaction, actor, 'payment_anomaly.resolve', { type: 'payment_anomaly', id: anomalyId }, { resolution });
            return 'resolved';
        }

        return await PaymentAnomaly.count({ where: { id: anomalyId }, transaction }) ? 'already_resolved' : 'not_found';
    });
}
