'use strict';

// What each user holds in unpaid orders, kept by guarded updates (lib/orders/limits.ts), and how many units each
// order holds (so that giving them back reads only the order's own row). Filled from the orders already there.
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.addColumn('orders', 'units', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 });
        await queryInterface.addColumn('users', 'open_orders', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 });
        await queryInterface.addColumn('users', 'open_units', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 });
        await queryInterface.sequelize.query(
            'UPDATE orders SET units = (SELECT COALESCE(SUM(order_items.count), 0) FROM order_items WHERE order_items.order_id = orders.id)');
        await queryInterface.sequelize.query(
            "UPDATE users SET open_orders = (SELECT COUNT(*) FROM orders WHERE orders.user_id = users.id AND orders.status = 'unpaid'), " +
            "open_units = (SELECT COALESCE(SUM(orders.units), 0) FROM orders WHERE orders.user_id = users.id AND orders.status = 'unpaid')");
    },

    async down(queryInterface) {
        await queryInterface.removeColumn('users', 'open_units');
        await queryInterface.removeColumn('users', 'open_orders');
        await queryInterface.removeColumn('orders', 'units');
    }
};
