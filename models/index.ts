import { CreationOptional, DataTypes, ForeignKey, InferAttributes, InferCreationAttributes, Model, NonAttribute, Sequelize } from 'sequelize';

import { initMerchantModels, MerchantModels } from './merchant';
import { initOrderEvent } from './order-event';
import { initPaymentAnomaly } from './payment-anomaly';
import { initShippingModels } from './shipment';
import { initWebhookModels } from './webhook';

export { OrderEvent } from './order-event';
export { PaymentAnomaly } from './payment-anomaly';
export { Shipment, WechatAccessToken } from './shipment';
export { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent } from './webhook';

export const orderStatuses = ['unpaid', 'closing', 'paid', 'closed', 'refunding', 'refunded', 'shipped', 'received', 'completed'] as const;
import { initRefund, Refund } from './refund';

export { Refund } from './refund';
import { initRefundRequest, RefundRequest } from './refund-request';

export { RefundRequest } from './refund-request';
export type { ActorKind, RefundStatus } from './refund';

export type OrderStatus = typeof orderStatuses[number];
export type TradeType = 'JSAPI' | 'NATIVE';

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
    declare id: CreationOptional<number>;
    declare openid: string;
    declare unionid: string | null;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export class Shop extends Model<InferAttributes<Shop>, InferCreationAttributes<Shop>> {
    declare id: CreationOptional<number>;
    declare name: string;
    declare description: string;
    declare logoUrl: string | null;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export class Goods extends Model<InferAttributes<Goods>, InferCreationAttributes<Goods>> {
    declare id: CreationOptional<number>;
    declare shopId: ForeignKey<Shop['id']>;
    declare name: string;
    declare thumbUrl: string | null;
    /** fen */
    declare price: number;
    declare stock: number;
    declare onSale: CreationOptional<boolean>;
    declare archived: CreationOptional<boolean>;
    declare sortOrder: CreationOptional<number>;
    /** Bumped by every merchant change: guards absolute stock sets. */
    declare version: CreationOptional<number>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
}

export class Order extends Model<InferAttributes<Order>, InferCreationAttributes<Order>> {
    declare id: CreationOptional<number>;
    declare userId: ForeignKey<User['id']>;
    declare outTradeNo: string;
    declare status: OrderStatus;
    /** fen */
    declare totalFee: number;
    declare expiresAt: Date;
    declare tradeType: CreationOptional<TradeType | null>;
    declare prepayId: CreationOptional<string | null>;
    declare codeUrl: CreationOptional<string | null>;
    declare prepayExpiresAt: CreationOptional<Date | null>;
    /** When unifiedorder was first called: from then on a trade may exist at WeChat, and its close window runs. */
    declare sentToWechatAt: CreationOptional<Date | null>;
    /** The WeChat Pay API it was first sent with, for good (lib/orders/gateway.ts). */
    declare payApiVersion: CreationOptional<'v2' | 'v3' | null>;
    declare transactionId: CreationOptional<string | null>;
    declare paidAt: CreationOptional<Date | null>;
    declare payerOpenid: CreationOptional<string | null>;
    declare closedAt: CreationOptional<Date | null>;
    /** Money arrived for an order that was already closed: it must be refunded. */
    declare refundRequired: CreationOptional<boolean>;
    declare queriedAt: CreationOptional<Date | null>;
    declare nextReconcileAt: CreationOptional<Date | null>;
    declare reconcileAttempts: CreationOptional<number>;
    declare claimedUntil: CreationOptional<Date | null>;
    /** Refunds (models/refund.ts): fen confirmed refunded; fen refunded or in flight; refunds asked; last sent; stock given back. */
    declare refundedFee: CreationOptional<number>;
    declare refundReservedFee: CreationOptional<number>;
    declare refundCount: CreationOptional<number>;
    declare refundSubmittedAt: CreationOptional<Date | null>;
    declare restockedAt: CreationOptional<Date | null>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;

    declare items?: NonAttribute<OrderItem[]>;
}

export class OrderItem extends Model<InferAttributes<OrderItem>, InferCreationAttributes<OrderItem>> {
    declare id: CreationOptional<number>;
    declare orderId: ForeignKey<Order['id']>;
    declare goodsId: ForeignKey<Goods['id']>;
    declare name: string;
    /** fen, as it was when the order was placed */
    declare price: number;
    declare count: number;
}

export class IdempotencyKey extends Model<InferAttributes<IdempotencyKey>, InferCreationAttributes<IdempotencyKey>> {
    declare id: CreationOptional<number>;
    declare userId: number;
    declare key: string;
    declare requestHash: string;
    declare orderId: number;
    declare createdAt: CreationOptional<Date>;
}

export class Payment extends Model<InferAttributes<Payment>, InferCreationAttributes<Payment>> {
    declare id: CreationOptional<number>;
    declare orderId: number;
    declare transactionId: string;
    /** fen */
    declare totalFee: number;
    declare payerOpenid: string | null;
    declare paidAt: Date;
    declare source: 'notify' | 'query';
    declare outcome: 'applied' | 'refund_required' | 'refunded_at_wechat';
    declare raw: string;
    declare createdAt: CreationOptional<Date>;
}

export interface Models extends MerchantModels {
    User: typeof User;
    Shop: typeof Shop;
    Goods: typeof Goods;
    Order: typeof Order;
    OrderItem: typeof OrderItem;
    IdempotencyKey: typeof IdempotencyKey;
    Payment: typeof Payment;
    Refund: typeof Refund;
    RefundRequest: typeof RefundRequest;
}

const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true };
const timestamps = { createdAt: DataTypes.DATE(3), updatedAt: DataTypes.DATE(3) };

export function initModels(sequelize: Sequelize): Models {
    User.init({
        id,
        openid: { type: DataTypes.STRING(128), allowNull: false, unique: true },
        unionid: { type: DataTypes.STRING(128), allowNull: true },
        ...timestamps
    }, { sequelize, tableName: 'users' });

    Shop.init({
        id,
        name: { type: DataTypes.STRING(64), allowNull: false },
        description: { type: DataTypes.STRING(512), allowNull: false, defaultValue: '' },
        logoUrl: { type: DataTypes.STRING(512), allowNull: true },
        ...timestamps
    }, { sequelize, tableName: 'shops' });

    Goods.init({
        id,
        name: { type: DataTypes.STRING(127), allowNull: false },
        thumbUrl: { type: DataTypes.STRING(512), allowNull: true },
        price: { type: DataTypes.INTEGER, allowNull: false },
        stock: { type: DataTypes.INTEGER, allowNull: false },
        onSale: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
        archived: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        sortOrder: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        ...timestamps
    }, { sequelize, tableName: 'goods' });

    Order.init({
        id,
        outTradeNo: { type: DataTypes.STRING(32), allowNull: false, unique: true },
        status: { type: DataTypes.STRING(16), allowNull: false },
        totalFee: { type: DataTypes.INTEGER, allowNull: false },
        expiresAt: { type: DataTypes.DATE(3), allowNull: false },
        tradeType: { type: DataTypes.STRING(16), allowNull: true },
        prepayId: { type: DataTypes.STRING(64), allowNull: true },
        codeUrl: { type: DataTypes.STRING(128), allowNull: true },
        prepayExpiresAt: { type: DataTypes.DATE(3), allowNull: true },
        sentToWechatAt: { type: DataTypes.DATE(3), allowNull: true },
        payApiVersion: { type: DataTypes.STRING(2), allowNull: true },
        transactionId: { type: DataTypes.STRING(32), allowNull: true, unique: true },
        paidAt: { type: DataTypes.DATE(3), allowNull: true },
        payerOpenid: { type: DataTypes.STRING(128), allowNull: true },
        closedAt: { type: DataTypes.DATE(3), allowNull: true },
        refundRequired: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        queriedAt: { type: DataTypes.DATE(3), allowNull: true },
        nextReconcileAt: { type: DataTypes.DATE(3), allowNull: true },
        reconcileAttempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        claimedUntil: { type: DataTypes.DATE(3), allowNull: true },
        refundedFee: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        refundReservedFee: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        refundCount: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        refundSubmittedAt: { type: DataTypes.DATE(3), allowNull: true },
        restockedAt: { type: DataTypes.DATE(3), allowNull: true },
        ...timestamps
    }, { sequelize, tableName: 'orders' });

    OrderItem.init({
        id,
        name: { type: DataTypes.STRING(127), allowNull: false },
        price: { type: DataTypes.INTEGER, allowNull: false },
        count: { type: DataTypes.INTEGER, allowNull: false }
    }, { sequelize, tableName: 'order_items', timestamps: false });

    IdempotencyKey.init({
        id,
        userId: { type: DataTypes.INTEGER, allowNull: false },
        key: { type: DataTypes.STRING(128), allowNull: false },
        requestHash: { type: DataTypes.STRING(64), allowNull: false },
        orderId: { type: DataTypes.INTEGER, allowNull: false },
        createdAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'idempotency_keys', updatedAt: false });

    Payment.init({
        id,
        orderId: { type: DataTypes.INTEGER, allowNull: false },
        transactionId: { type: DataTypes.STRING(32), allowNull: false, unique: true },
        totalFee: { type: DataTypes.INTEGER, allowNull: false },
        payerOpenid: { type: DataTypes.STRING(128), allowNull: true },
        paidAt: { type: DataTypes.DATE(3), allowNull: false },
        source: { type: DataTypes.STRING(16), allowNull: false },
        outcome: { type: DataTypes.STRING(24), allowNull: false },
        raw: { type: DataTypes.TEXT, allowNull: false },
        createdAt: DataTypes.DATE(3)
    }, { sequelize, tableName: 'payments', updatedAt: false });

    initPaymentAnomaly(sequelize);
    initOrderEvent(sequelize);
    initWebhookModels(sequelize);
    initShippingModels(sequelize);

    Shop.hasMany(Goods, { foreignKey: 'shopId', as: 'goods' });
    Goods.belongsTo(Shop, { foreignKey: 'shopId', as: 'shop' });
    User.hasMany(Order, { foreignKey: 'userId', as: 'orders' });
    Order.belongsTo(User, { foreignKey: 'userId', as: 'user' });
    Order.hasMany(OrderItem, { foreignKey: 'orderId', as: 'items' });
    OrderItem.belongsTo(Order, { foreignKey: 'orderId', as: 'order' });
    OrderItem.belongsTo(Goods, { foreignKey: 'goodsId', as: 'goods' });

    initRefund(sequelize);
    Order.hasMany(Refund, { foreignKey: 'orderId', as: 'refunds' });
    initRefundRequest(sequelize);

    return { User, Shop, Goods, Order, OrderItem, IdempotencyKey, Payment, Refund, RefundRequest, ...initMerchantModels(sequelize) };
}
