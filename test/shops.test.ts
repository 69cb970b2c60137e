import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { Goods } from '../models';
import { createShop, json, sleep, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('shops and goods', () => {

    let app: TestApp;
    const get = (url: string) => json(app.server, { method: 'GET', url });

    before(async () => {
        app = await startApp();
    });

    after(() => app.stop());

    it('lists no shops on an empty catalogue', async () => {
        const res = await get('/shops');
        expect(res.statusCode).to.equal(200);
        expect(res.body).to.equal({ results: [], totalCount: 0 });
    });

    describe('with a catalogue', () => {

        const shops: Array<{ shopId: number; goodsIds: number[] }> = [];

        before(async () => {
            shops.push(await createShop([
                { name: '云南小粒咖啡豆 250g', price: 6800, stock: 120 },
                { name: '冷萃咖啡液', price: 1, stock: 0 },
                { name: '手冲滤杯套装', price: 99999900, stock: 2147483647 }
            ]));
            for (let i = 0; i < 4; ++i) {
                shops.push(await createShop(Array.from({ length: i }, (_, n) => ({ price: 100 * (n + 1), stock: n }))));
            }
        });

        it('lists shops with their fields, in id order, with the total count', async () => {
            const res = await get('/shops');
            expect(res.statusCode).to.equal(200);
            expect(res.body.totalCount).to.equal(5);
            expect(res.body.results.map((shop: any) => shop.id)).to.equal(shops.map((shop) => shop.shopId));
            for (const shop of res.body.results) {
                expect(Object.keys(shop).sort()).to.equal(['description', 'id', 'logoUrl', 'name']);
                expect(shop.name).to.match(/^Shop [0-9a-f]{6}$/);
                expect(shop.description).to.equal('test shop');
                expect(shop.logoUrl).to.be.null();
            }
        });

        it('pages through shops', async () => {
            const ids = shops.map((shop) => shop.shopId);
            const page = async (query: string) => {
                const res = await get(`/shops?${query}`);
                expect(res.statusCode, query).to.equal(200);
                expect(res.body.totalCount, query).to.equal(5);
                return res.body.results.map((shop: any) => shop.id);
            };

            expect(await page('limit=2')).to.equal(ids.slice(0, 2));
            expect(await page('page=1&limit=2')).to.equal(ids.slice(0, 2));
            expect(await page('page=2&limit=2')).to.equal(ids.slice(2, 4));
            expect(await page('page=3&limit=2')).to.equal(ids.slice(4));
            expect(await page('page=4&limit=2')).to.equal([]);
            expect(await page('page=100000&limit=100')).to.equal([]);
            expect(await page('limit=1')).to.equal(ids.slice(0, 1));
            expect(await page('limit=100')).to.equal(ids);
        });

        it('rejects page and limit out of bounds with 400', async () => {
            for (const query of ['page=0', 'page=-1', 'page=abc', 'page=1.5', 'page=100001', 'limit=0', 'limit=101', 'limit=-5', 'limit=ten', 'limit=2.5', 'page=', 'limit=']) {
                const res = await get(`/shops?${query}`);
                expect(res.statusCode, query).to.equal(400);
                expect(res.body.error, query).to.equal('Bad Request');
                expect(res.body.message, query).to.contain(query.split('=')[0]);

                const goods = await get(`/shops/${shops[0].shopId}/goods?${query}`);
                expect(goods.statusCode, `goods ${query}`).to.equal(400);
                expect(goods.body.message, `goods ${query}`).to.contain(query.split('=')[0]);
            }
        });

        it("lists a shop's goods with integer prices in fen", async () => {
            const { shopId, goodsIds } = shops[0];
            const res = await get(`/shops/${shopId}/goods`);
            expect(res.statusCode).to.equal(200);
            expect(res.body).to.equal({
                results: [
                    { id: goodsIds[0], shopId, name: '云南小粒咖啡豆 250g', thumbUrl: null, price: 6800, stock: 120 },
                    { id: goodsIds[1], shopId, name: '冷萃咖啡液', thumbUrl: null, price: 1, stock: 0 },
                    { id: goodsIds[2], shopId, name: '手冲滤杯套装', thumbUrl: null, price: 99999900, stock: 2147483647 }
                ],
                totalCount: 3
            });
            for (const goods of res.body.results) {
                expect(Number.isInteger(goods.price)).to.be.true();
                expect(Number.isInteger(goods.stock)).to.be.true();
            }

            expect(Number.isInteger(res.body.totalCount)).to.be.true();
        });

        it("lists only the shop's own goods, paged", async () => {
            const { shopId, goodsIds } = shops[4];
            expect(goodsIds).to.have.length(3);
            const first = await get(`/shops/${shopId}/goods?limit=2`);
            expect(first.body.totalCount).to.equal(3);
            expect(first.body.results.map((goods: any) => goods.id)).to.equal(goodsIds.slice(0, 2));
            expect(first.body.results.every((goods: any) => goods.shopId === shopId)).to.be.true();
            const second = await get(`/shops/${shopId}/goods?page=2&limit=2`);
            expect(second.body).to.equal({ results: [{ id: goodsIds[2], shopId, name: 'Goods 3', thumbUrl: null, price: 300, stock: 2 }], totalCount: 3 });
            const beyond = await get(`/shops/${shopId}/goods?page=3&limit=2`);
            expect(beyond.body).to.equal({ results: [], totalCount: 3 });
        });

        it('answers an empty list for a shop without goods', async () => {
            const res = await get(`/shops/${shops[1].shopId}/goods`);
            expect(res.statusCode).to.equal(200);
            expect(res.body).to.equal({ results: [], totalCount: 0 });
        });

        it('answers 404 for an unknown shop', async () => {
            const unknown = Math.max(...shops.map((shop) => shop.shopId)) + 1000;
            const res = await get(`/shops/${unknown}/goods`);
            expect(res.statusCode).to.equal(404);
            expect(res.body).to.equal({ statusCode: 404, error: 'Not Found', message: `Shop ${unknown} does not exist` });
        });

        it('answers 400 for a shop id that is not an id', async () => {
            for (const shopId of ['abc', '0', '-1', '1.5', '2147483648']) {
                const res = await get(`/shops/${shopId}/goods`);
                expect(res.statusCode, shopId).to.equal(400);
                expect(res.body.message, shopId).to.contain('shopId');
            }
        });
    });
});

describe('the goods page cache (GOODS_CACHE_MS)', () => {

    it('serves a page from memory for GOODS_CACHE_MS, then reads it again; errors are not kept', async () => {
        const app = await startApp({ GOODS_CACHE_MS: '300' });
        try {
            const { shopId, goodsIds: [goodsId] } = await createShop([{ price: 100, stock: 5 }]);
            const read = async () => (await json(app.server, { method: 'GET', url: `/shops/${shopId}/goods` })).body.results[0].stock;
            expect(await read()).to.equal(5);
            await Goods.update({ stock: 4 }, { where: { id: goodsId } });
            expect(await read()).to.equal(5);
            await sleep(350);
            expect(await read()).to.equal(4);

            expect((await json(app.server, { method: 'GET', url: '/shops/999999/goods' })).statusCode).to.equal(404);
            const { Shop } = await import('../models');
            await Shop.create({ id: 999999, name: 'late', description: '', logoUrl: null } as any);
            expect((await json(app.server, { method: 'GET', url: '/shops/999999/goods' })).statusCode).to.equal(200);
        }
        finally {
            await app.stop();
        }
    });
});
