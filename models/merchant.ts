import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export const staffRoles = ['owner', 'operator', 'finance'] as const;
export type StaffRole = typeof staffRoles[number];

export class Staff extends Model<InferAttributes<Staff>, InferCreationAttributes<Staff>> {
    declare id: CreationOptional<number>;
    declare username: string;
    /** `scrypt$N$r$p$salt$hash` (lib/merchant/passwords.ts) */
    declare passwordHash: string;
    declare role: StaffRole;
    declare disabled: CreationOptional<boolean>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export class ApiKey extends Model<InferAttributes<ApiKey>, InferCreationAttributes<ApiKey>> {
    declare id: CreationOptional<number>;
    declare name: string;
    declare keyHash: string;
    declare keyPrefix: string;
    /** space-separated */
    declare scopes: string;
    declare createdBy: number;
    declare lastUsedAt: CreationOptional<Date | null>;
    declare revokedAt: CreationOptional<Date | null>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export class MerchantAction extends Model<InferAttributes<MerchantAction>, InferCreationAttributes<MerchantAction>> {
    declare id: CreationOptional<number>;
    declare actorType: 'staff' | 'api_key' | 'system';
    declare actorId: number;
    declare action: string;
    declare targetType: string;
    declare targetId: number;
    /** JSON */
    declare details: string;
    declare createdAt: CreationOptional<Date>;
}

export interface MerchantModels {
    Staff: typeof Staff;
    ApiKey: typeof ApiKey;
    MerchantAction: typeof MerchantAction;
}

const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
const timestamps = { createdAt: DataTypes.DATE(3), updatedAt: DataTypes.DATE(3) };

export function initMerchantModels(sequelize: Sequelize): MerchantModels {
    Staff.init({
        id,
        username: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        passwordHash: { type: DataTypes.STRING(255), allowNull: false },
        role: { type: DataTypes.STRING(16), allowNull: false },
        disabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        ...timestamps
    }, { sequelize, tableName: 'staff' });

    ApiKey.init({
        id,
        name: { type: DataTypes.STRING(64), allowNull: false },
        keyHash: { type: DataTypes.STRING(64), allowNull: false, unique: true },
        keyPrefix: { type: DataTypes.STRING(16), allowNull: false },
        scopes: { type: DataTypes.STRING(255), allowNull: false },
        createdBy: { type: DataTypes.INTEGER, allowNull: false },
        lastUsedAt: { type: DataTypes.DATE(3), allowNull: true },
        revokedAt: { type: DataTypes.DATE(3), allowNull: true },
        ...timestamps
    }, { sequelize, tableName: 'api_keys' });

    MerchantAction.init({
        id,
        actorType: { type: DataTypes.STRING(16), allowNull: false },
        actorId: { type: DataTypes.INTEGER, allowNull: false },
        action: { type: DataTypes.STRING(32), allowNull: false },
        targetType: { type: DataTypes.STRING(16), allowNull: false },
        targetId: { type: DataTypes.INTEGER, allowNull: false },
        details: { type: DataTypes.TEXT, allowNull: false },
        createdAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'merchant_actions', updatedAt: false });

    return { Staff, ApiKey, MerchantAction };
}
