import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import type { Models } from '../models';
import { json, login, startApp, TestApp } from './helpers';
import { merchant, staffLogin, StaffLogin } from './merchant-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('merchant shops and goods', () => {

    let app: TestApp;
    let owner: StaffLogin;
    let operator: StaffLogin;
    let models: Models;

    before(async () => {
        // A long goods cache, to show that a merchant change still shows at once on this instance.
        app = await startApp({ GOODS_CACHE_MS: '60000' });
        owner = await staffLogin(app, 'owner');
        operator = await staffLogin(app, 'operator');
        models = app.context.models;
    });

    after(() => app.stop());

    const newShop = async () => {
        const res = await merchant(app, owner, 'POST', '/merchant/shops', { name: 'Tea house', description: 'leaves', logoUrl: 'https://example.com/logo.png' });
        expect(res.statusCode).to.equal(201);
        return res.body.id as number;
    };

    const newGoods = async (shopId: number, fields: object = {}) => {
        const res = await merchant(app, operator, 'POST', '/merchant/goods', { shopId, name: 'Oolong 100g', price: 3800, stock: 10, ...fields });
        expect(res.statusCode).to.equal(201);
        return res.body;
    };

    const buyerGoods = async (shopId: number) => (await json(app.server, { method: 'GET', url: `/shops/${shopId}/goods` })).body;

    it('creates, lists and changes shops, each change audited', async () => {
        const shopId = await newShop();
        const patched = await merchant(app, operator, 'PATCH', `/merchant/shops/${shopId}`, { name: 'Tea house 2' });
        expect(patched.statusCode).to.equal(200);
        expect(patched.body).to.include({ id: shopId, name: 'Tea house 2', description: 'leaves' });
        const listed = await merchant(app, owner, 'GET', '/merchant/shops?limit=100');
        expect(listed.body.results.find((shop: any) => shop.id === shopId).name).to.equal('Tea house 2');

        const actions = await models.MerchantAction.findAll({ where: { targetType: 'shop', targetId: shopId }, order: [['id', 'ASC']] });
        expect(actions.map((action) => [action.action, action.actorId])).to.equal([['shop.create', owner.id], ['shop.update', operator.id]]);
        expect(JSON.parse(actions[1].details)).to.equal({ before: { name: 'Tea house' }, after: { name: 'Tea house 2' } });
        expect(actions[1].createdAt).to.be.a.date();

        expect((await merchant(app, owner, 'PATCH', '/merchant/shops/999999', { name: 'x' })).statusCode).to.equal(404);
        expect((await merchant(app, owner, 'PATCH', `/merchant/shops/${shopId}`, {})).statusCode).to.equal(400);
        expect((await merchant(app, owner, 'POST', '/merchant/shops', { name: 'x', logoUrl: 'javascript:alert(1)' })).statusCode).to.equal(400);
    });

    it('refuses prices that are not positive 32-bit integer fen, and writes nothing', async () => {
        const shopId = await newShop();
        const before = await models.Goods.count();
        for (const price of [0, -1, 1.5, 2147483648, '100', null]) {
            const res = await merchant(app, owner, 'POST', '/merchant/goods', { shopId, name: 'Bad', price, stock: 1 });
            expect(res.statusCode, `price ${price}`).to.equal(400);
        }

        for (const extra of [{ stock: -1 }, { stock: 1.5 }, { version: 3 }, { id: 5 }]) {
            expect((await merchant(app, owner, 'POST', '/merchant/goods', { shopId, name: 'Bad', price: 1, stock: 1, ...extra })).statusCode).to.equal(400);
        }

        expect((await merchant(app, owner, 'POST', '/merchant/goods', { shopId: 999999, name: 'Lost', price: 1, stock: 1 })).statusCode).to.equal(404);
        expect(await models.Goods.count()).to.equal(before);

        const goods = await newGoods(shopId, { price: 2147483647 });
        expect(goods.price).to.equal(2147483647);
        for (const patch of [{ price: 0 }, { stock: 5 }, { version: 0 }, { stock: 5, version: 0, stockDelta: 1 }, { stockDelta: 0 }, { stockDelta: 1.5 }]) {
            expect((await merchant(app, owner, 'PATCH', `/merchant/goods/${goods.id}`, patch)).statusCode, JSON.stringify(patch)).to.equal(400);
        }

        expect((await models.Goods.findByPk(goods.id))!.version).to.equal(0);
        expect((await merchant(app, owner, 'PATCH', '/merchant/goods/999999', { price: 5 })).statusCode).to.equal(404);
    });

    it('never changes an order already placed when the price changes', async () => {
        const shopId = await newShop();
        const goods = await newGoods(shopId, { price: 1000 });
        const buyer = await login(app);
        const placed = await json(app.server, { method: 'POST', url: '/orders', headers: buyer.auth, payload: { goodsList: [{ goodsId: goods.id, count: 2 }] } });
        expect(placed.statusCode).to.equal(201);

        const patched = await merchant(app, owner, 'PATCH', `/merchant/goods/${goods.id}`, { price: 1500, name: 'Oolong 100g (new)' });
        expect(patched.body).to.include({ price: 1500, version: 1 });

        const order = await json(app.server, { method: 'GET', url: `/orders/${placed.body.id}`, headers: buyer.auth });
        expect(order.body.totalFee).to.equal(2000);
        expect(order.body.items).to.equal([{ goodsId: goods.id, name: 'Oolong 100g', price: 1000, count: 2 }]);
        const next = await json(app.server, { method: 'POST', url: '/orders', headers: buyer.auth, payload: { goodsList: [{ goodsId: goods.id, count: 1 }] } });
        expect(next.body.totalFee).to.equal(1500);
    });

    it('takes archived and off-sale goods out of the buyer\'s lists and orders, but old orders still show them', async () => {
        const shopId = await newShop();
        const archived = await newGoods(shopId, { name: 'Old tea', sortOrder: 2 });
        const offSale = await newGoods(shopId, { name: 'Seasonal tea', sortOrder: 1 });
        const kept = await newGoods(shopId, { name: 'House tea', sortOrder: 0 });
        const buyer = await login(app);
        const old = await json(app.server, { method: 'POST', url: '/orders', headers: buyer.auth, payload: { goodsList: [{ goodsId: archived.id, count: 1 }] } });
        expect(old.statusCode).to.equal(201);
        expect((await buyerGoods(shopId)).results.map((goods: any) => goods.name)).to.equal(['House tea', 'Seasonal tea', 'Old tea']);

        expect((await merchant(app, owner, 'PATCH', `/merchant/goods/${archived.id}`, { archived: true })).statusCode).to.equal(200);
        expect((await merchant(app, owner, 'PATCH', `/merchant/goods/${offSale.id}`, { onSale: false })).statusCode).to.equal(200);

        const list = await buyerGoods(shopId);
        expect(list.results.map((goods: any) => goods.id)).to.equal([kept.id]);
        expect(list.totalCount).to.equal(1);
        expect((await json(app.server, { method: 'GET', url: `/shops/${shopId}/goods?page=2&limit=1` })).body).to.equal({ results: [], totalCount: 1 });

        const stockBefore = (await models.Goods.findByPk(kept.id))!.stock;
        for (const goods of [archived, offSale]) {
            const refused = await json(app.server, { method: 'POST', url: '/orders', headers: buyer.auth, payload: { goodsList: [{ goodsId: kept.id, count: 1 }, { goodsId: goods.id, count: 1 }] } });
            expect(refused.statusCode).to.equal(409);
            expect(refused.body.message).to.contain(`Goods ${goods.id}`);
            expect(refused.body.message).to.contain('not on sale');
        }

        expect((await models.Goods.findByPk(kept.id))!.stock).to.equal(stockBefore);
        const shown = await json(app.server, { method: 'GET', url: `/orders/${old.body.id}`, headers: buyer.auth });
        expect(shown.body.items).to.equal([{ goodsId: archived.id, name: 'Old tea', price: 3800, count: 1 }]);

        const merchantList = await merchant(app, owner, 'GET', `/merchant/goods?shopId=${shopId}`);
        expect(merchantList.body.results.map((goods: any) => [goods.id, goods.archived, goods.onSale])).to.equal([[kept.id, false, true], [offSale.id, false, false], [archived.id, true, true]]);
        expect((await merchant(app, owner, 'GET', `/merchant/goods?shopId=${shopId}&archived=true`)).body.results.map((goods: any) => goods.id)).to.equal([archived.id]);

        // Back on sale: orderable again.
        await merchant(app, owner, 'PATCH', `/merchant/goods/${offSale.id}`, { onSale: true });
        expect((await json(app.server, { method: 'POST', url: '/orders', headers: buyer.auth, payload: { goodsList: [{ goodsId: offSale.id, count: 1 }] } })).statusCode).to.equal(201);
    });

    it('shows a change in the buyer\'s cached goods list at once', async () => {
        const shopId = await newShop();
        const goods = await newGoods(shopId, { price: 700 });
        expect((await buyerGoods(shopId)).results[0].price).to.equal(700);

        // Proof the page is cached: a change behind the app's back is not seen.
        await models.Goods.update({ price: 1 }, { where: { id: goods.id } });
        expect((await buyerGoods(shopId)).results[0].price).to.equal(700);

        await merchant(app, owner, 'PATCH', `/merchant/goods/${goods.id}`, { price: 900 });
        expect((await buyerGoods(shopId)).results[0].price).to.equal(900);
        await merchant(app, owner, 'PATCH', `/merchant/goods/${goods.id}`, { stockDelta: 5 });
        expect((await buyerGoods(shopId)).results[0].stock).to.equal(15);
        const added = await newGoods(shopId, { name: 'Added' });
        expect((await buyerGoods(shopId)).results.map((row: any) => row.id)).to.equal([goods.id, added.id]);
    });

    it('lets exactly one of several staff setting stock from the same version win', async () => {
        const shopId = await newShop();
        const goods = await newGoods(shopId, { stock: 10 });
        const answers = await Promise.all([11, 12, 13, 14, 15, 16].map((stock, index) =>
            merchant(app, index % 2 ? owner : operator, 'PATCH', `/merchant/goods/${goods.id}`, { stock, version: goods.version })));
        const won = answers.filter((res) => res.statusCode === 200);
        expect(won).to.have.length(1);
        expect(answers.filter((res) => res.statusCode === 409)).to.have.length(5);
        expect(answers.find((res) => res.statusCode === 409)!.body.message).to.contain('read them again');

        const now = (await models.Goods.findByPk(goods.id))!;
        expect(now.stock).to.equal(won[0].body.stock);
        expect(now.version).to.equal(goods.version + 1);
        expect(await models.MerchantAction.count({ where: { targetType: 'goods', targetId: goods.id, action: 'goods.update' } })).to.equal(1);

        // With the new version, the next set goes through.
        expect((await merchant(app, owner, 'PATCH', `/merchant/goods/${goods.id}`, { stock: 3, version: now.version })).body.stock).to.equal(3);
    });

    it('applies concurrent relative adjustments without losing any, and never below zero', async () => {
        const shopId = await newShop();
        const goods = await newGoods(shopId, { stock: 10 });
        const ups = await Promise.all(Array.from({ length: 8 }, () => merchant(app, operator, 'PATCH', `/merchant/goods/${goods.id}`, { stockDelta: 3 })));
        expect(ups.every((res) => res.statusCode === 200)).to.be.true();
        expect((await models.Goods.findByPk(goods.id))!.stock).to.equal(34);

        const downs = await Promise.all(Array.from({ length: 10 }, () => merchant(app, owner, 'PATCH', `/merchant/goods/${goods.id}`, { stockDelta: -5 })));
        expect(downs.filter((res) => res.statusCode === 200)).to.have.length(6);
        const refused = downs.filter((res) => res.statusCode === 409);
        expect(refused).to.have.length(4);
        expect(refused[0].body.message).to.contain('out of range');
        const final = (await models.Goods.findByPk(goods.id))!;
        expect(final.stock).to.equal(4);
        expect(final.version).to.equal(14);

        const audited = await models.MerchantAction.findAll({ where: { targetType: 'goods', targetId: goods.id, action: 'goods.update' } });
        expect(audited).to.have.length(14);
        expect(audited.map((action) => JSON.parse(action.details).stockDelta).sort()).to.equal([...Array(6).fill(-5), ...Array(8).fill(3)].sort());
        expect((await merchant(app, owner, 'PATCH', `/merchant/goods/${goods.id}`, { stockDelta: 2147483647 })).statusCode).to.equal(409);
    });
});
