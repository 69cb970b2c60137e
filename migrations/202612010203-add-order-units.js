'use strict';

// How many units each order holds, and an index to sum a buyer's unpaid orders quickly (lib/orders/limits.ts).
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.addColumn('orders', 'units', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 });
        await queryInterface.sequelize.query(
            'UPDATE orders SET units = (SELECT COALESCE(SUM(order_items.count), 0) FROM order_items WHERE order_items.order_id = orders.id)');
        await queryInterface.addIndex('orders', ['user_id', 'status'], { name: 'orders_user_id_status' });
    },

    async down(queryInterface) {
        await queryInterface.removeIndex('orders', 'orders_user_id_status');
        await queryInterface.removeColumn('orders', 'units');
    }
};
