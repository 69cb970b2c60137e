import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export type UploadStatus = 'pending' | 'uploaded' | 'skipped' | 'failed';
export type NoticeOutcome = 'sent' | 'not_subscribed' | 'failed' | 'off';

export interface Parcel {
    trackingNo?: string;
    expressCompany?: string;
    itemDesc: string;
    contact?: { consignorContact?: string; receiverContact?: string };
}

/** One shipment of a paid order (a re-ship is a second row), and its upload to WeChat (lib/shipping/). */
export class Shipment extends Model<InferAttributes<Shipment>, InferCreationAttributes<Shipment>> {
    declare id: CreationOptional<number>;
    declare orderId: number;
    declare logisticsType: number;
    declare deliveryMode: number;
    declare isAllDelivered: boolean;
    /** JSON of Parcel[] */
    declare parcels: string;
    declare reship: CreationOptional<boolean>;
    declare uploadStatus: UploadStatus;
    declare uploadAttempts: CreationOptional<number>;
    declare nextAttemptAt: CreationOptional<Date | null>;
    declare lastError: CreationOptional<string | null>;
    declare uploadedAt: CreationOptional<Date | null>;
    declare nextCheckAt: CreationOptional<Date | null>;
    declare notice: CreationOptional<NoticeOutcome | null>;
    declare claimedUntil: CreationOptional<Date | null>;
    /** `staff:<id>` or `api_key:<id>` */
    declare createdBy: string;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

/** The stable_token every instance shares, and the lease of the one instance refreshing it. */
export class WechatAccessToken extends Model<InferAttributes<WechatAccessToken>, InferCreationAttributes<WechatAccessToken>> {
    declare appId: string;
    declare accessToken: string | null;
    declare expiresAt: Date | null;
    declare refreshingUntil: Date | null;
    declare updatedAt: CreationOptional<Date>;
}

export function initShippingModels(sequelize: Sequelize): { Shipment: typeof Shipment; WechatAccessToken: typeof WechatAccessToken } {
    Shipment.init({
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        orderId: { type: DataTypes.INTEGER, allowNull: false },
        logisticsType: { type: DataTypes.INTEGER, allowNull: false },
        deliveryMode: { type: DataTypes.INTEGER, allowNull: false },
        isAllDelivered: { type: DataTypes.BOOLEAN, allowNull: false },
        parcels: { type: DataTypes.TEXT, allowNull: false },
        reship: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        uploadStatus: { type: DataTypes.STRING(16), allowNull: false },
        uploadAttempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        nextAttemptAt: { type: DataTypes.DATE(3), allowNull: true },
        lastError: { type: DataTypes.STRING(255), allowNull: true },
        uploadedAt: { type: DataTypes.DATE(3), allowNull: true },
        nextCheckAt: { type: DataTypes.DATE(3), allowNull: true },
        notice: { type: DataTypes.STRING(16), allowNull: true },
        claimedUntil: { type: DataTypes.DATE(3), allowNull: true },
        createdBy: { type: DataTypes.STRING(64), allowNull: false },
        createdAt: DataTypes.DATE(3),
        updatedAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'shipments' });

    WechatAccessToken.init({
        appId: { type: DataTypes.STRING(32), primaryKey: true },
        accessToken: { type: DataTypes.STRING(1024), allowNull: true },
        expiresAt: { type: DataTypes.DATE(3), allowNull: true },
        refreshingUntil: { type: DataTypes.DATE(3), allowNull: true },
        updatedAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'wechat_access_tokens', createdAt: false });

    return { Shipment, WechatAccessToken };
}
