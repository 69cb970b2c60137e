import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export type ActorKind = 'buyer' | 'system' | 'wechat' | 'staff';

/** One status change of an order, written in the transaction that made it (lib/orders/events.ts). */
export class OrderEvent extends Model<InferAttributes<OrderEvent>, InferCreationAttributes<OrderEvent>> {
    declare id: CreationOptional<number>;
    declare orderId: number;
    /** null for the order's creation */
    declare fromStatus: string | null;
    declare toStatus: string;
    declare actorKind: ActorKind;
    declare actorId: string | null;
    declare reason: string;
    declare createdAt: CreationOptional<Date>;
}

export function initOrderEvent(sequelize: Sequelize): typeof OrderEvent {
    return OrderEvent.init({
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        orderId: { type: DataTypes.INTEGER, allowNull: false },
        fromStatus: { type: DataTypes.STRING(16), allowNull: true },
        toStatus: { type: DataTypes.STRING(16), allowNull: false },
        actorKind: { type: DataTypes.STRING(16), allowNull: false },
        actorId: { type: DataTypes.STRING(64), allowNull: true },
        reason: { type: DataTypes.STRING(255), allowNull: false },
        createdAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'order_events', updatedAt: false });
}
