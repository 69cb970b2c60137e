'use strict';

/**
 * The WeChat Pay API version (v2 or v3) an order was first sent to WeChat with: it is queried, closed and refunded
 * with that version for good, whatever the merchant uses for new payments later. Orders sent before this column
 * existed were sent with v2, the only version there was.
 */
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.addColumn('orders', 'pay_api_version', { type: Sequelize.STRING(2), allowNull: true });
        await queryInterface.sequelize.query("UPDATE orders SET pay_api_version = 'v2' WHERE sent_to_wechat_at IS NOT NULL");
    },

    async down(queryInterface) {
        await queryInterface.removeColumn('orders', 'pay_api_version');
    }
};
