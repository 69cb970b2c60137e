import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export const paymentAnomalyKinds = ['unknown_order', 'amount_mismatch', 'transaction_reused'] as const;
export type PaymentAnomalyKind = typeof paymentAnomalyKinds[number];

/** A payment WeChat vouches for that matches no order of ours (lib/payments/anomalies.ts). */
export class PaymentAnomaly extends Model<InferAttributes<PaymentAnomaly>, InferCreationAttributes<PaymentAnomaly>> {
    declare id: CreationOptional<number>;
    declare kind: PaymentAnomalyKind;
    declare source: 'notify' | 'query';
    declare outTradeNo: string;
    declare transactionId: string;
    /** fen, as WeChat reports it paid */
    declare totalFee: number;
    declare orderId: number | null;
    /** fen, what the order of outTradeNo costs */
    declare orderTotalFee: number | null;
    declare reason: string;
    declare raw: string;
    declare createdAt: CreationOptional<Date>;
    declare resolvedAt: CreationOptional<Date | null>;
    declare resolution: CreationOptional<string | null>;
}

export function initPaymentAnomaly(sequelize: Sequelize): typeof PaymentAnomaly {
    return PaymentAnomaly.init({
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        kind: { type: DataTypes.STRING(32), allowNull: false },
        source: { type: DataTypes.STRING(16), allowNull: false },
        outTradeNo: { type: DataTypes.STRING(64), allowNull: false },
        transactionId: { type: DataTypes.STRING(64), allowNull: false },
        totalFee: { type: DataTypes.INTEGER, allowNull: false },
        orderId: { type: DataTypes.INTEGER, allowNull: true },
        orderTotalFee: { type: DataTypes.INTEGER, allowNull: true },
        reason: { type: DataTypes.STRING(255), allowNull: false },
        raw: { type: DataTypes.TEXT, allowNull: false },
        createdAt: DataTypes.DATE(3),
        resolvedAt: { type: DataTypes.DATE(3), allowNull: true },
        resolution: { type: DataTypes.STRING(255), allowNull: true }
    }, { sequelize, tableName: 'payment_anomalies', updatedAt: false });
}
