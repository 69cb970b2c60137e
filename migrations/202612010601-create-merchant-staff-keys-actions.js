'use strict';

// The merchant side: staff accounts, API keys, the audit of every merchant action, and the goods fields the
// merchant manages (on sale, archived, sort order, and the version that guards absolute stock sets).
module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('staff', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            username: { type: Sequelize.STRING(64), allowNull: false, unique: true },
            password_hash: { type: Sequelize.STRING(255), allowNull: false, comment: 'scrypt$N$r$p$salt$hash' },
            role: { type: Sequelize.STRING(16), allowNull: false, comment: 'owner | operator | finance' },
            disabled: { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });

        await queryInterface.createTable('api_keys', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            name: { type: Sequelize.STRING(64), allowNull: false },
            key_hash: { type: Sequelize.STRING(64), allowNull: false, unique: true, comment: 'hex HMAC-SHA256 of the key' },
            key_prefix: { type: Sequelize.STRING(16), allowNull: false, comment: 'the first characters, to recognise a key' },
            scopes: { type: Sequelize.STRING(255), allowNull: false, comment: 'space-separated' },
            created_by: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'staff', key: 'id' }, onDelete: 'RESTRICT' },
            last_used_at: { type: Sequelize.DATE(3), allowNull: true },
            revoked_at: { type: Sequelize.DATE(3), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });

        await queryInterface.createTable('merchant_actions', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            actor_type: { type: Sequelize.STRING(16), allowNull: false, comment: 'staff | api_key' },
            actor_id: { type: Sequelize.INTEGER, allowNull: false },
            action: { type: Sequelize.STRING(32), allowNull: false, comment: 'e.g. goods.update' },
            target_type: { type: Sequelize.STRING(16), allowNull: false },
            target_id: { type: Sequelize.INTEGER, allowNull: false },
            details: { type: Sequelize.TEXT, allowNull: false, comment: 'JSON: what changed' },
            created_at: { type: Sequelize.DATE(3), allowNull: false }
        });
        await queryInterface.addIndex('merchant_actions', ['target_type', 'target_id', 'id'], { name: 'merchant_actions_target' });

        await queryInterface.addColumn('goods', 'on_sale', { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: true });
        await queryInterface.addColumn('goods', 'archived', { type: Sequelize.BOOLEAN, allowNull: false, defaultValue: false });
        await queryInterface.addColumn('goods', 'sort_order', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 });
        await queryInterface.addColumn('goods', 'version', { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 });
    },

    async down(queryInterface) {
        await queryInterface.removeColumn('goods', 'version');
        await queryInterface.removeColumn('goods', 'sort_order');
        await queryInterface.removeColumn('goods', 'archived');
        await queryInterface.removeColumn('goods', 'on_sale');
        await queryInterface.dropTable('merchant_actions');
        await queryInterface.dropTable('api_keys');
        await queryInterface.dropTable('staff');
    }
};
