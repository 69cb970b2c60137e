'use strict';

/**
 * When an order was first sent to WeChat (unifiedorder): set by a conditional update before the call, so a cancel
 * knows a trade may exist there and when WeChat's 5-minute close window ends. The `closing` status needs no DDL.
 */
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.addColumn('orders', 'sent_to_wechat_at', { type: Sequelize.DATE(3), allowNull: true });
        // Orders paid for before this column existed got their trade type on their first unifiedorder.
        await queryInterface.sequelize.query('UPDATE orders SET sent_to_wechat_at = created_at WHERE trade_type IS NOT NULL');
    },

    async down(queryInterface) {
        await queryInterface.removeColumn('orders', 'sent_to_wechat_at');
    }
};
