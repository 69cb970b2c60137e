import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export const refundStatuses = ['processing', 'succeeded', 'failed', 'closed'] as const;
export type RefundStatus = typeof refundStatuses[number];
export type ActorKind = 'staff' | 'api_key' | 'buyer' | 'system';

/** One refund of an order. Its out_refund_no is made and stored before WeChat is called, and reused on every retry. */
export class Refund extends Model<InferAttributes<Refund>, InferCreationAttributes<Refund>> {
    declare id: CreationOptional<number>;
    declare orderId: number;
    declare outRefundNo: string;
    /** `processing` with no submittedAt: queued, not yet sent to WeChat. */
    declare status: RefundStatus;
    /** fen */
    declare amount: number;
    declare reason: string;
    declare restock: boolean;
    declare actorKind: ActorKind;
    declare actorId: string | null;
    declare idempotencyKey: string | null;
    declare requestHash: string;
    declare refundId: CreationOptional<string | null>;
    /** WeChat's own word: SUCCESS, CHANGE, REFUNDCLOSE, PROCESSING. */
    declare wechatStatus: CreationOptional<string | null>;
    declare failure: CreationOptional<string | null>;
    declare attempts: CreationOptional<number>;
    declare submittedAt: CreationOptional<Date | null>;
    declare nextAttemptAt: CreationOptional<Date | null>;
    declare claimedUntil: CreationOptional<Date | null>;
    declare finishedAt: CreationOptional<Date | null>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export function initRefund(sequelize: Sequelize): typeof Refund {
    Refund.init({
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        orderId: { type: DataTypes.INTEGER, allowNull: false },
        outRefundNo: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        status: { type: DataTypes.STRING(16), allowNull: false },
        amount: { type: DataTypes.INTEGER, allowNull: false },
        reason: { type: DataTypes.STRING(80), allowNull: false },
        restock: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        actorKind: { type: DataTypes.STRING(16), allowNull: false },
        actorId: { type: DataTypes.STRING(64), allowNull: true },
        idempotencyKey: { type: DataTypes.STRING(128), allowNull: true },
        requestHash: { type: DataTypes.STRING(64), allowNull: false },
        refundId: { type: DataTypes.STRING(32), allowNull: true },
        wechatStatus: { type: DataTypes.STRING(16), allowNull: true },
        failure: { type: DataTypes.STRING(256), allowNull: true },
        attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        submittedAt: { type: DataTypes.DATE(3), allowNull: true },
        nextAttemptAt: { type: DataTypes.DATE(3), allowNull: true },
        claimedUntil: { type: DataTypes.DATE(3), allowNull: true },
        finishedAt: { type: DataTypes.DATE(3), allowNull: true },
        createdAt: DataTypes.DATE(3),
        updatedAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'refunds' });
    return Refund;
}
