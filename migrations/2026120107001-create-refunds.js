'use strict';

module.exports = {
    async up(queryInterface, Sequelize) {
        // refunded_fee: what WeChat confirmed refunded; refund_reserved_fee: that plus what is in flight (every refund
        // not failed or closed), so a guarded UPDATE keeps it <= total_fee; refund_count: refunds ever asked (<= 50).
        await queryInterface.addColumn('orders', 'refunded_fee', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0, comment: 'fen' });
        await queryInterface.addColumn('orders', 'refund_reserved_fee', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0, comment: 'fen' });
        await queryInterface.addColumn('orders', 'refund_count', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 });
        // WeChat wants refunds of one order a minute apart: the last time one was sent, taken with a guarded UPDATE.
        await queryInterface.addColumn('orders', 'refund_submitted_at', { type: Sequelize.DATE(3), allowNull: true });
        await queryInterface.addColumn('orders', 'restocked_at', { type: Sequelize.DATE(3), allowNull: true });

        await queryInterface.createTable('refunds', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            order_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'orders', key: 'id' }, onDelete: 'RESTRICT' },
            out_refund_no: { type: Sequelize.STRING(64), allowNull: false, unique: true },
            status: { type: Sequelize.STRING(16), allowNull: false, comment: 'processing | succeeded | failed | closed' },
            amount: { type: Sequelize.INTEGER, allowNull: false, comment: 'fen' },
            reason: { type: Sequelize.STRING(80), allowNull: false },
            restock: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
            actor_kind: { type: Sequelize.STRING(16), allowNull: false, comment: 'staff | api_key | buyer | system' },
            actor_id: { type: Sequelize.STRING(64), allowNull: true },
            idempotency_key: { type: Sequelize.STRING(128), allowNull: true },
            request_hash: { type: Sequelize.STRING(64), allowNull: false },
            refund_id: { type: Sequelize.STRING(32), allowNull: true },
            wechat_status: { type: Sequelize.STRING(16), allowNull: true },
            failure: { type: Sequelize.STRING(256), allowNull: true },
            attempts: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
            submitted_at: { type: Sequelize.DATE(3), allowNull: true },
            next_attempt_at: { type: Sequelize.DATE(3), allowNull: true },
            claimed_until: { type: Sequelize.DATE(3), allowNull: true },
            finished_at: { type: Sequelize.DATE(3), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('refunds', ['order_id'], { name: 'refunds_order_id' });
        await queryInterface.addIndex('refunds', ['status', 'next_attempt_at'], { name: 'refunds_status_next_attempt_at' });
        await queryInterface.addIndex('refunds', ['order_id', 'idempotency_key'], { name: 'refunds_order_id_idempotency_key', unique: true });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('refunds');
        for (const column of ['restocked_at', 'refund_submitted_at', 'refund_count', 'refund_reserved_fee', 'refunded_fee']) {
            await queryInterface.removeColumn('orders', column);
        }
    }
};
