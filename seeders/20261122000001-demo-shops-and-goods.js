'use strict';

// Demo data: prices in fen.
const shops = [
    {
        name: '山间咖啡 Mountain Coffee',
        description: 'Single-origin beans roasted weekly in Kunming.',
        goods: [
            ['云南小粒咖啡豆 250g', 6800, 120],
            ['冷萃咖啡液 6 瓶装', 8900, 60],
            ['手冲滤杯套装', 15900, 25],
            ['挂耳咖啡 10 片', 3900, 300]
        ]
    },
    {
        name: '江南茶舍 Jiangnan Tea House',
        description: 'Spring teas from Hangzhou and Suzhou growers.',
        goods: [
            ['明前龙井 100g', 26800, 40],
            ['碧螺春 100g', 19800, 35],
            ['白茶饼 357g', 32000, 12],
            ['青瓷盖碗', 12800, 18]
        ]
    },
    {
        name: '小满烘焙 Xiaoman Bakery',
        description: 'Bread and pastries baked the morning they ship.',
        goods: [
            ['全麦吐司', 1800, 80],
            ['蛋黄酥 6 枚', 4200, 50],
            ['可颂 4 个装', 3600, 45],
            ['限量款桂花米糕', 2600, 1]
        ]
    }
];

module.exports = {
    async up(queryInterface) {
        const now = new Date();
        for (const shop of shops) {
            await queryInterface.bulkInsert('shops', [{
                name: shop.name,
                description: shop.description,
                logo_url: null,
                created_at: now,
                updated_at: now
            }]);
            const [[{ id: shopId }]] = await queryInterface.sequelize.query(
                'SELECT MAX(id) AS id FROM shops WHERE name = :name',
                { replacements: { name: shop.name } }
            );
            await queryInterface.bulkInsert('goods', shop.goods.map(([name, price, stock], index) => ({
                shop_id: shopId,
                name,
                thumb_url: `https://picsum.photos/seed/wxshop-${shopId}-${index}/200`,
                price,
                stock,
                created_at: now,
                updated_at: now
            })));
        }
    },

    async down(queryInterface) {
        const names = shops.map((shop) => shop.name);
        const [rows] = await queryInterface.sequelize.query('SELECT id FROM shops WHERE name IN (:names)', { replacements: { names } });
        const ids = rows.map((row) => row.id);
        if (ids.length) {
            await queryInterface.bulkDelete('goods', { shop_id: ids });
            await queryInterface.bulkDelete('shops', { id: ids });
        }
    }
};
