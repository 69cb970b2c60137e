'use strict';

// Payments WeChat vouches for (signed, SUCCESS) that match no order of ours: kept for a person to resolve.
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('payment_anomalies', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            kind: { type: Sequelize.STRING(32), allowNull: false, comment: 'unknown_order | amount_mismatch | transaction_reused' },
            source: { type: Sequelize.STRING(16), allowNull: false, comment: 'notify | query' },
            out_trade_no: { type: Sequelize.STRING(64), allowNull: false },
            transaction_id: { type: Sequelize.STRING(64), allowNull: false },
            total_fee: { type: Sequelize.INTEGER, allowNull: false, comment: 'fen, as WeChat reports it paid' },
            order_id: { type: Sequelize.INTEGER, allowNull: true, comment: 'the order of out_trade_no, if there is one' },
            order_total_fee: { type: Sequelize.INTEGER, allowNull: true, comment: 'fen, what that order costs' },
            reason: { type: Sequelize.STRING(255), allowNull: false },
            raw: { type: Sequelize.TEXT, allowNull: false, comment: 'the fields WeChat sent, as JSON' },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            resolved_at: { type: Sequelize.DATE(3), allowNull: true },
            resolution: { type: Sequelize.STRING(255), allowNull: true }
        });
        await queryInterface.addIndex('payment_anomalies', ['transaction_id', 'kind'], { name: 'payment_anomalies_transaction_id_kind', unique: true });
        await queryInterface.addIndex('payment_anomalies', ['resolved_at', 'id'], { name: 'payment_anomalies_resolved_at_id' });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('payment_anomalies');
    }
};
