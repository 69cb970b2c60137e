'use strict';

module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('orders', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            user_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'RESTRICT' },
            out_trade_no: { type: Sequelize.STRING(32), allowNull: false, unique: true },
            status: { type: Sequelize.STRING(16), allowNull: false },
            total_fee: { type: Sequelize.INTEGER, allowNull: false, comment: 'fen' },
            expires_at: { type: Sequelize.DATE(3), allowNull: false },
            trade_type: { type: Sequelize.STRING(16), allowNull: true },
            prepay_id: { type: Sequelize.STRING(64), allowNull: true },
            code_url: { type: Sequelize.STRING(128), allowNull: true },
            prepay_expires_at: { type: Sequelize.DATE(3), allowNull: true },
            transaction_id: { type: Sequelize.STRING(32), allowNull: true, unique: true },
            paid_at: { type: Sequelize.DATE(3), allowNull: true },
            payer_openid: { type: Sequelize.STRING(128), allowNull: true },
            closed_at: { type: Sequelize.DATE(3), allowNull: true },
            refund_required: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
            queried_at: { type: Sequelize.DATE(3), allowNull: true },
            next_reconcile_at: { type: Sequelize.DATE(3), allowNull: true },
            reconcile_attempts: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
            claimed_until: { type: Sequelize.DATE(3), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('orders', ['user_id', 'id'], { name: 'orders_user_id_id' });
        await queryInterface.addIndex('orders', ['status', 'expires_at'], { name: 'orders_status_expires_at' });
        await queryInterface.addIndex('orders', ['status', 'next_reconcile_at'], { name: 'orders_status_next_reconcile_at' });

        await queryInterface.createTable('order_items', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            order_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'orders', key: 'id' }, onDelete: 'CASCADE' },
            goods_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'goods', key: 'id' }, onDelete: 'RESTRICT' },
            name: { type: Sequelize.STRING(127), allowNull: false },
            price: { type: Sequelize.INTEGER, allowNull: false, comment: 'fen, at order time' },
            count: { type: Sequelize.INTEGER, allowNull: false }
        });
        await queryInterface.addIndex('order_items', ['order_id'], { name: 'order_items_order_id' });

        await queryInterface.createTable('idempotency_keys', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            user_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
            key: { type: Sequelize.STRING(128), allowNull: false },
            request_hash: { type: Sequelize.STRING(64), allowNull: false },
            order_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'orders', key: 'id' }, onDelete: 'CASCADE' },
            created_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('idempotency_keys', ['user_id', 'key'], { name: 'idempotency_keys_user_id_key', unique: true });
        await queryInterface.addIndex('idempotency_keys', ['created_at'], { name: 'idempotency_keys_created_at' });

        // Every verified payment WeChat told us of, whatever the order's state: money received is never forgotten.
        await queryInterface.createTable('payments', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            order_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'orders', key: 'id' }, onDelete: 'RESTRICT' },
            transaction_id: { type: Sequelize.STRING(32), allowNull: false, unique: true },
            total_fee: { type: Sequelize.INTEGER, allowNull: false, comment: 'fen' },
            payer_openid: { type: Sequelize.STRING(128), allowNull: true },
            paid_at: { type: Sequelize.DATE(3), allowNull: false },
            source: { type: Sequelize.STRING(16), allowNull: false, comment: 'notify | query' },
            outcome: { type: Sequelize.STRING(24), allowNull: false, comment: 'applied | refund_required' },
            raw: { type: Sequelize.TEXT, allowNull: false },
            created_at: { type: Sequelize.DATE(3), allowNull: false }
        });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('payments');
        await queryInterface.dropTable('idempotency_keys');
        await queryInterface.dropTable('order_items');
        await queryInterface.dropTable('orders');
    }
};
