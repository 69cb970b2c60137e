'use strict';

module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('refund_requests', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            order_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'orders', key: 'id' }, onDelete: 'RESTRICT' },
            user_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'RESTRICT' },
            // the order id until approved or rejected, then NULL: the unique index allows one open request per order (NULLs repeat freely)
            open_order_id: { type: Sequelize.INTEGER, allowNull: true, unique: true },
            status: { type: Sequelize.STRING(16), allowNull: false, comment: 'open | approving (its refund being asked for) | approved | rejected' },
            amount: { type: Sequelize.INTEGER, allowNull: false, comment: 'fen' },
            reason: { type: Sequelize.STRING(80), allowNull: false },
            rejection: { type: Sequelize.STRING(255), allowNull: true },
            refund_id: { type: Sequelize.INTEGER, allowNull: true, references: { model: 'refunds', key: 'id' }, onDelete: 'RESTRICT' },
            decided_by_kind: { type: Sequelize.STRING(16), allowNull: true },
            decided_by_id: { type: Sequelize.INTEGER, allowNull: true },
            decided_at: { type: Sequelize.DATE(3), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('refund_requests', ['order_id'], { name: 'refund_requests_order_id' });
        await queryInterface.addIndex('refund_requests', ['status', 'id'], { name: 'refund_requests_status_id' });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('refund_requests');
    }
};
