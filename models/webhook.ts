import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

/** A merchant system's URL that hears of events (lib/webhooks/). */
export class WebhookEndpoint extends Model<InferAttributes<WebhookEndpoint>, InferCreationAttributes<WebhookEndpoint>> {
    declare id: CreationOptional<number>;
    declare url: string;
    declare description: CreationOptional<string>;
    /** space-separated */
    declare eventTypes: string;
    /** The secret is derived from this and WEBHOOK_SECRET_KEY (lib/webhooks/secrets.ts); it is never stored. */
    declare secretSalt: string;
    declare previousSecretSalt: CreationOptional<string | null>;
    declare previousSecretExpiresAt: CreationOptional<Date | null>;
    declare enabled: CreationOptional<boolean>;
    declare failingSince: CreationOptional<Date | null>;
    declare disabledReason: CreationOptional<string | null>;
    declare createdBy: number;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

/** The outbox: one row per change another system must hear of, written in the transaction of the change. */
export class WebhookEvent extends Model<InferAttributes<WebhookEvent>, InferCreationAttributes<WebhookEvent>> {
    declare id: CreationOptional<number>;
    declare publicId: string;
    declare type: string;
    declare orderId: number | null;
    /** The JSON body, fixed when the event is dispatched to the endpoints. */
    declare payload: CreationOptional<string | null>;
    declare dispatchedAt: CreationOptional<Date | null>;
    declare createdAt: CreationOptional<Date>;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export class WebhookDelivery extends Model<InferAttributes<WebhookDelivery>, InferCreationAttributes<WebhookDelivery>> {
    declare id: CreationOptional<number>;
    declare eventId: number;
    declare endpointId: number;
    declare status: DeliveryStatus;
    declare attempts: CreationOptional<number>;
    declare nextAttemptAt: Date | null;
    declare giveUpAt: Date;
    declare claimedUntil: CreationOptional<Date | null>;
    declare claimToken: CreationOptional<string | null>;
    declare lastAttemptAt: CreationOptional<Date | null>;
    declare lastStatusCode: CreationOptional<number | null>;
    declare succeededAt: CreationOptional<Date | null>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export class WebhookAttempt extends Model<InferAttributes<WebhookAttempt>, InferCreationAttributes<WebhookAttempt>> {
    declare id: CreationOptional<number>;
    declare deliveryId: number;
    declare attemptedAt: Date;
    declare succeeded: boolean;
    declare statusCode: number | null;
    declare latencyMs: number;
    declare error: string | null;
    declare responseSnippet: string | null;
}

const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
const timestamps = { createdAt: DataTypes.DATE(3), updatedAt: DataTypes.DATE(3) };

export function initWebhookModels(sequelize: Sequelize): void {
    WebhookEndpoint.init({
        id,
        url: { type: DataTypes.STRING(1024), allowNull: false },
        description: { type: DataTypes.STRING(255), allowNull: false, defaultValue: '' },
        eventTypes: { type: DataTypes.STRING(1024), allowNull: false },
        secretSalt: { type: DataTypes.STRING(64), allowNull: false },
        previousSecretSalt: { type: DataTypes.STRING(64), allowNull: true },
        previousSecretExpiresAt: { type: DataTypes.DATE(3), allowNull: true },
        enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
        failingSince: { type: DataTypes.DATE(3), allowNull: true },
        disabledReason: { type: DataTypes.STRING(255), allowNull: true },
        createdBy: { type: DataTypes.INTEGER, allowNull: false },
        ...timestamps
    }, { sequelize, tableName: 'webhook_endpoints' });

    WebhookEvent.init({
        id,
        publicId: { type: DataTypes.STRING(40), allowNull: false, unique: true },
        type: { type: DataTypes.STRING(48), allowNull: false },
        orderId: { type: DataTypes.INTEGER, allowNull: true },
        payload: { type: DataTypes.TEXT, allowNull: true },
        dispatchedAt: { type: DataTypes.DATE(3), allowNull: true },
        createdAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'webhook_events', updatedAt: false });

    WebhookDelivery.init({
        id,
        eventId: { type: DataTypes.INTEGER, allowNull: false },
        endpointId: { type: DataTypes.INTEGER, allowNull: false },
        status: { type: DataTypes.STRING(16), allowNull: false },
        attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        nextAttemptAt: { type: DataTypes.DATE(3), allowNull: true },
        giveUpAt: { type: DataTypes.DATE(3), allowNull: false },
        claimedUntil: { type: DataTypes.DATE(3), allowNull: true },
        claimToken: { type: DataTypes.STRING(32), allowNull: true },
        lastAttemptAt: { type: DataTypes.DATE(3), allowNull: true },
        lastStatusCode: { type: DataTypes.INTEGER, allowNull: true },
        succeededAt: { type: DataTypes.DATE(3), allowNull: true },
        ...timestamps
    }, { sequelize, tableName: 'webhook_deliveries' });

    WebhookAttempt.init({
        id,
        deliveryId: { type: DataTypes.INTEGER, allowNull: false },
        attemptedAt: { type: DataTypes.DATE(3), allowNull: false },
        succeeded: { type: DataTypes.BOOLEAN, allowNull: false },
        statusCode: { type: DataTypes.INTEGER, allowNull: true },
        latencyMs: { type: DataTypes.INTEGER, allowNull: false },
        error: { type: DataTypes.STRING(255), allowNull: true },
        responseSnippet: { type: DataTypes.STRING(512), allowNull: true }
    }, { sequelize, tableName: 'webhook_attempts', timestamps: false });

    WebhookEvent.hasMany(WebhookDelivery, { foreignKey: 'eventId', as: 'deliveries' });
    WebhookDelivery.belongsTo(WebhookEvent, { foreignKey: 'eventId', as: 'event' });
    WebhookDelivery.belongsTo(WebhookEndpoint, { foreignKey: 'endpointId', as: 'endpoint' });
    WebhookDelivery.hasMany(WebhookAttempt, { foreignKey: 'deliveryId', as: 'attemptLog' });
}
