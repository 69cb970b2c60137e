'use strict';

// Shipments of paid orders and their upload to WeChat's shipping management; the access token every instance shares.
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('shipments', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            order_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'orders', key: 'id' }, onDelete: 'CASCADE' },
            logistics_type: { type: Sequelize.INTEGER, allowNull: false, comment: '1 express, 2 same-city, 3 virtual, 4 pick-up' },
            delivery_mode: { type: Sequelize.INTEGER, allowNull: false, comment: '1 unified, 2 split' },
            is_all_delivered: { type: Sequelize.BOOLEAN, allowNull: false },
            parcels: { type: Sequelize.TEXT, allowNull: false, comment: 'JSON: [{trackingNo, expressCompany, itemDesc, contact}]' },
            reship: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
            upload_status: { type: Sequelize.STRING(16), allowNull: false, comment: 'pending | uploaded | skipped | failed' },
            upload_attempts: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
            next_attempt_at: { type: Sequelize.DATE(3), allowNull: true },
            last_error: { type: Sequelize.STRING(255), allowNull: true },
            uploaded_at: { type: Sequelize.DATE(3), allowNull: true },
            next_check_at: { type: Sequelize.DATE(3), allowNull: true, comment: 'when get_order is asked next (a lost push)' },
            notice: { type: Sequelize.STRING(16), allowNull: true, comment: 'sent | not_subscribed | failed | off' },
            claimed_until: { type: Sequelize.DATE(3), allowNull: true },
            created_by: { type: Sequelize.STRING(64), allowNull: false },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('shipments', ['order_id'], { name: 'shipments_order_id' });
        await queryInterface.addIndex('shipments', ['upload_status', 'next_attempt_at'], { name: 'shipments_upload_due' });
        await queryInterface.addIndex('shipments', ['next_check_at'], { name: 'shipments_check_due' });

        await queryInterface.createTable('wechat_access_tokens', {
            app_id: { type: Sequelize.STRING(32), primaryKey: true },
            access_token: { type: Sequelize.STRING(1024), allowNull: true },
            expires_at: { type: Sequelize.DATE(3), allowNull: true },
            refreshing_until: { type: Sequelize.DATE(3), allowNull: true, comment: 'the one instance refreshing holds this lease' },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('wechat_access_tokens');
        await queryInterface.dropTable('shipments');
    }
};
