'use strict';

// The audit trail: one row per status change of an order, written in the transaction that made the change.
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('order_events', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            order_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'orders', key: 'id' }, onDelete: 'CASCADE' },
            from_status: { type: Sequelize.STRING(16), allowNull: true, comment: 'null when the order was created' },
            to_status: { type: Sequelize.STRING(16), allowNull: false },
            actor_kind: { type: Sequelize.STRING(16), allowNull: false, comment: 'buyer | system | wechat | staff' },
            actor_id: { type: Sequelize.STRING(64), allowNull: true },
            reason: { type: Sequelize.STRING(255), allowNull: false },
            created_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('order_events', ['order_id', 'id'], { name: 'order_events_order_id_id' });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('order_events');
    }
};
