'use strict';

module.exports = {
    async up(queryInterface, Sequelize) {
        await queryInterface.createTable('users', {
            id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
            openid: { type: Sequelize.STRING(128), allowNull: false, unique: true },
            unionid: { type: Sequelize.STRING(128), allowNull: true },
            created_at: { type: Sequelize.DATE(3), allowNull: false },
            updated_at: { type: Sequelize.DATE(3), allowNull: false }
        });
    },

    async down(queryInterface) {
        await queryInterface.dropTable('users');
    }
};
