'use strict';

// Webhooks: the merchant's endpoints, the outbox of events (one row per reported change, written in the change's
// transaction), one delivery per event and endpoint, and every attempt of a delivery.
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('webhook_endpoints', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            url: { type: Sequelize.STRING(1024), allowNull: false },
            description: { type: Sequelize.STRING(255), allowNull: false, defaultValue: '' },
            event_types: { type: Sequelize.STRING(1024), allowNull: false, comment: 'space-separated' },
            secret_salt: { type: Sequelize.STRING(64), allowNull: false, comment: 'the secret is derived from it and WEBHOOK_SECRET_KEY' },
            previous_secret_salt: { type: Sequelize.STRING(64), allowNull: true },
            previous_secret_expires_at: { type: Sequelize.DATE(3), allowNull: true },
            enabled: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: true },
            failing_since: { type: Sequelize.DATE(3), allowNull: true },
            disabled_reason: { type: Sequelize.STRING(255), allowNull: true },
            created_by: { type: Sequelize.INTEGER, allowNull: false },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });

        await queryInterface.createTable('webhook_events', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            public_id: { type: Sequelize.STRING(40), allowNull: false, unique: true, comment: 'evt_…: what receivers dedupe on' },
            type: { type: Sequelize.STRING(48), allowNull: false },
            order_id: { type: Sequelize.INTEGER, allowNull: true },
            payload: { type: Sequelize.TEXT, allowNull: true, comment: 'the JSON body, fixed when the event is dispatched' },
            dispatched_at: { type: Sequelize.DATE(3), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('webhook_events', ['dispatched_at', 'id'], { name: 'webhook_events_undispatched' });

        await queryInterface.createTable('webhook_deliveries', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            event_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'webhook_events', key: 'id' }, onDelete: 'CASCADE' },
            endpoint_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'webhook_endpoints', key: 'id' }, onDelete: 'CASCADE' },
            status: { type: Sequelize.STRING(16), allowNull: false, comment: 'pending | succeeded | failed' },
            attempts: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
            next_attempt_at: { type: Sequelize.DATE(3), allowNull: true },
            give_up_at: { type: Sequelize.DATE(3), allowNull: false },
            claimed_until: { type: Sequelize.DATE(3), allowNull: true },
            claim_token: { type: Sequelize.STRING(32), allowNull: true },
            last_attempt_at: { type: Sequelize.DATE(3), allowNull: true },
            last_status_code: { type: Sequelize.INTEGER, allowNull: true },
            succeeded_at: { type: Sequelize.DATE(3), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('webhook_deliveries', ['status', 'next_attempt_at'], { name: 'webhook_deliveries_due' });
        await queryInterface.addIndex('webhook_deliveries', ['endpoint_id', 'id'], { name: 'webhook_deliveries_endpoint' });

        await queryInterface.createTable('webhook_attempts', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            delivery_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'webhook_deliveries', key: 'id' }, onDelete: 'CASCADE' },
            attempted_at: { type: Sequelize.DATE(3), allowNull: false },
            succeeded: { type: Sequelize.BOOLEAN, allowNull: false },
            status_code: { type: Sequelize.INTEGER, allowNull: true },
            latency_ms: { type: Sequelize.INTEGER, allowNull: false },
            error: { type: Sequelize.STRING(255), allowNull: true },
            response_snippet: { type: Sequelize.STRING(512), allowNull: true }
        });
        await queryInterface.addIndex('webhook_attempts', ['delivery_id', 'id'], { name: 'webhook_attempts_delivery' });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('webhook_attempts');
        await queryInterface.dropTable('webhook_deliveries');
        await queryInterface.dropTable('webhook_events');
        await queryInterface.dropTable('webhook_endpoints');
    }
};
