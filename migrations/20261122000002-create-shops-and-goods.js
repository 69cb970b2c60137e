'use strict';

module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('shops', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            name: { type: Sequelize.STRING(64), allowNull: false },
            description: { type: Sequelize.STRING(512), allowNull: false, defaultValue: '' },
            logo_url: { type: Sequelize.STRING(512), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });

        await queryInterface.createTable('goods', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            shop_id: {
                type: Sequelize.INTEGER,
                allowNull: false,
                references: { model: 'shops', key: 'id' },
                onDelete: 'RESTRICT'
            },
            name: { type: Sequelize.STRING(127), allowNull: false },
            thumb_url: { type: Sequelize.STRING(512), allowNull: true },
            price: { type: Sequelize.INTEGER, allowNull: false, comment: 'fen' },
            stock: { type: Sequelize.INTEGER, allowNull: false, defaultValue: 0 },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });

        await queryInterface.addIndex('goods', ['shop_id', 'id'], { name: 'goods_shop_id_id' });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('goods');
        await queryInterface.dropTable('shops');
    }
};
