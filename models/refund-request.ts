import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export const refundRequestStatuses = ['open', 'approving', 'approved', 'rejected'] as const;
export type RefundRequestStatus = typeof refundRequestStatuses[number];

/** A buyer's after-sales request for a refund (lib/refunds/requests.ts). A merchant approves it (a refund) or rejects it. */
export class RefundRequest extends Model<InferAttributes<RefundRequest>, InferCreationAttributes<RefundRequest>> {
    declare id: CreationOptional<number>;
    declare orderId: number;
    declare userId: number;
    /** The order id until the request is approved or rejected, null once decided: a unique index keeps one open request per order. */
    declare openOrderId: number | null;
    declare status: RefundRequestStatus;
    /** fen */
    declare amount: number;
    declare reason: string;
    /** The merchant's reason when rejected. */
    declare rejection: CreationOptional<string | null>;
    declare refundId: CreationOptional<number | null>;
    declare decidedByKind: CreationOptional<string | null>;
    declare decidedById: CreationOptional<number | null>;
    declare decidedAt: CreationOptional<Date | null>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export function initRefundRequest(sequelize: Sequelize): typeof RefundRequest {
    return RefundRequest.init({
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        orderId: { type: DataTypes.INTEGER, allowNull: false },
        userId: { type: DataTypes.INTEGER, allowNull: false },
        openOrderId: { type: DataTypes.INTEGER, allowNull: true, unique: true },
        status: { type: DataTypes.STRING(16), allowNull: false },
        amount: { type: DataTypes.INTEGER, allowNull: false },
        reason: { type: DataTypes.STRING(80), allowNull: false },
        rejection: { type: DataTypes.STRING(255), allowNull: true },
        refundId: { type: DataTypes.INTEGER, allowNull: true },
        decidedByKind: { type: DataTypes.STRING(16), allowNull: true },
        decidedById: { type: DataTypes.INTEGER, allowNull: true },
        decidedAt: { type: DataTypes.DATE(3), allowNull: true },
        createdAt: DataTypes.DATE(3),
        updatedAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'refund_requests' });
}
