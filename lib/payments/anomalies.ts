import { Op, UniqueConstraintError } from 'sequelize';

import { PaymentAnomaly } from '../../models';
import type { PaymentAnomalyKind } from '../../models/payment-anomaly';
import type { PaidTrade } from '../wechatpay/client';

export interface AnomalyReport {
    kind: PaymentAnomalyKind;
    source: PaymentAnomaly['source'];
    trade: PaidTrade;
    reason: string;
    /** The order of the trade's out_trade_no, when there is one, and what it costs (fen). */
    orderId?: number;
    orderTotalFee?: number;
}

/**
 * Keeps a genuine payment that matches no order of ours, for a person to resolve. Once per (transaction_id, kind):
 * WeChat's retries of the notification and every later orderquery of it find the row already there.
 */
export async function recordAnomaly(report: AnomalyReport): Promise<PaymentAnomaly> {
    const { trade } = report;
    const key = { transactionId: trade.transactionId.slice(0, 64), kind: report.kind };
    const existing = await PaymentAnomaly.findOne({ where: key });
    if (existing) {
        return existing;
    }

    try {
        return await PaymentAnomaly.create({
            ...key,
            source: report.source,
            outTradeNo: trade.outTradeNo.slice(0, 64),
            totalFee: trade.totalFee,
            orderId: report.orderId ?? null,
            orderTotalFee: report.orderTotalFee ?? null,
            reason: report.reason.slice(0, 255),
            raw: JSON.stringify(trade.raw)
        });
    }
    catch (err) {
        if (err instanceof UniqueConstraintError) {            // recorded by a concurrent delivery meanwhile
            return (await PaymentAnomaly.findOne({ where: key }))!;
        }

        throw err;
    }
}

/** Anomalies newest first, a page at a time; `unresolved` (or `resolved: false`) leaves out those a person has resolved, `resolved: true` shows only them. */
export async function listAnomalies(options: { page: number; limit: number; unresolved?: boolean; resolved?: boolean }): Promise<{ results: PaymentAnomaly[]; totalCount: number }> {
    const resolved = options.unresolved ? false : options.resolved;
    const { rows, count } = await PaymentAnomaly.findAndCountAll({
        where: resolved === undefined ? {} : { resolvedAt: resolved ? { [Op.ne]: null } : null },
        order: [['id', 'DESC']],
        offset: (options.page - 1) * options.limit,
        limit: options.limit
    });
    return { results: rows, totalCount: count };
}

/** How many anomalies still wait for a person. */
export function countUnresolvedAnomalies(): Promise<number> {
    return PaymentAnomaly.count({ where: { resolvedAt: null } });
}
