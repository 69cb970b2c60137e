'use strict';

// What GET /merchant/orders filters on: status and time range (newest first by id), the buyer, and the shop
// (through the order lines' goods). outTradeNo and transactionId already have unique indexes.
module.exports = {
    async up(queryInterface) {
        await queryInterface.addIndex('orders', ['status', 'id'], { name: 'orders_status_id' });
        await queryInterface.addIndex('orders', ['created_at'], { name: 'orders_created_at' });
        await queryInterface.addIndex('order_items', ['goods_id', 'order_id'], { name: 'order_items_goods_id_order_id' });
        await queryInterface.addIndex('goods', ['shop_id', 'sort_order', 'id'], { name: 'goods_shop_id_sort_order_id' });
    },

    async down(queryInterface) {
        await queryInterface.removeIndex('goods', 'goods_shop_id_sort_order_id');
        if (queryInterface.sequelize.getDialect() === 'mysql') {
            // MySQL dropped the index it had made for the goods_id foreign key when ours arrived, and will not drop
            // ours while the key needs one: give the key its plain index back first.
            await queryInterface.addIndex('order_items', ['goods_id'], { name: 'order_items_goods_id' });
        }

        await queryInterface.removeIndex('order_items', 'order_items_goods_id_order_id');
        await queryInterface.removeIndex('orders', 'orders_created_at');
        await queryInterface.removeIndex('orders', 'orders_status_id');
    }
};
