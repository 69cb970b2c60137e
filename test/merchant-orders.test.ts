import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { createShop, eventuallyStatus, json, login, pay, sim, startApp, TestApp } from './helpers';
import { apiKey, merchant, staffLogin, StaffLogin } from './merchant-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('merchant orders', () => {

    let app: TestApp;
    let finance: StaffLogin;
    let shopA: { shopId: number; goodsIds: number[] };
    let shopB: { shopId: number; goodsIds: number[] };
    let alice: Awaited<ReturnType<typeof login>>;
    let bob: Awaited<ReturnType<typeof login>>;
    /** in creation order */
    const orders: Array<{ id: number; outTradeNo: string; shop: 'A' | 'B'; buyer: 'alice' | 'bob'; createdAt: string }> = [];
    let paid: { id: number; transactionId: string };
    let between: string;

    before(async () => {
        app = await startApp();
        finance = await staffLogin(app, 'finance');
        shopA = await createShop([{ price: 100, stock: 1000 }, { price: 250, stock: 1000 }]);
        shopB = await createShop([{ price: 990, stock: 1000 }]);
        alice = await login(app);
        bob = await login(app);

        const place = async (shop: 'A' | 'B', buyer: 'alice' | 'bob') => {
            const goodsList = shop === 'A' ? [{ goodsId: shopA.goodsIds[1], count: 1 }, { goodsId: shopA.goodsIds[0], count: 3 }] : [{ goodsId: shopB.goodsIds[0], count: 1 }];
            const res = await json(app.server, { method: 'POST', url: '/orders', headers: (buyer === 'alice' ? alice : bob).auth, payload: { goodsList } });
            expect(res.statusCode).to.equal(201);
            orders.push({ id: res.body.id, outTradeNo: res.body.outTradeNo, shop, buyer, createdAt: res.body.createdAt });
        };

        for (let i = 0; i < 12; ++i) {
            await place(i % 3 === 0 ? 'B' : 'A', i % 2 ? 'bob' : 'alice');
            if (i === 5) {
                await new Promise((resolve) => setTimeout(resolve, 20));
                between = new Date().toISOString();
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
        }

        // One of bob's orders of shop A gets paid through the simulator.
        const target = orders.find((order) => order.buyer === 'bob' && order.shop === 'A')!;
        const params = (await pay(app, bob, target.id)).body;
        const paidAtWechat = await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
        expect(paidAtWechat.statusCode).to.equal(200);
        const order = await eventuallyStatus(app, bob, target.id, 'paid');
        paid = { id: target.id, transactionId: order.transactionId };
    });

    after(() => app.stop());

    const list = async (query: string) => {
        const res = await merchant(app, finance, 'GET', `/merchant/orders?${query}`);
        expect(res.statusCode, query).to.equal(200);
        return res.body as { results: any[]; totalCount: number };
    };

    const idsOf = (predicate: (order: typeof orders[number]) => boolean) => orders.filter(predicate).map((order) => order.id).reverse();

    it('lists every order newest first, with lines, buyer and pages', async () => {
        const all = await list('limit=100');
        expect(all.totalCount).to.equal(12);
        expect(all.results.map((order) => order.id)).to.equal(idsOf(() => true));
        const first = all.results.find((order) => order.id === orders[1].id);
        expect(first.items).to.equal([{ goodsId: shopA.goodsIds[0], name: 'Goods 1', price: 100, count: 3 }, { goodsId: shopA.goodsIds[1], name: 'Goods 2', price: 250, count: 1 }]);
        expect(first).to.include({ totalFee: 550, userId: bob.userId, status: 'paid' });

        const page2 = await list('page=2&limit=5');
        expect(page2.totalCount).to.equal(12);
        expect(page2.results.map((order) => order.id)).to.equal(idsOf(() => true).slice(5, 10));
        expect((await list('page=4&limit=5')).results).to.equal([]);
    });

    it('filters by status, shop, time, outTradeNo, transactionId and buyer', async () => {
        expect((await list('status=paid')).results.map((order) => order.id)).to.equal([paid.id]);
        expect((await list('status=unpaid')).totalCount).to.equal(11);
        expect((await list('status=refunded')).totalCount).to.equal(0);

        expect((await list(`shopId=${shopA.shopId}&limit=100`)).results.map((order) => order.id)).to.equal(idsOf((order) => order.shop === 'A'));
        expect((await list(`shopId=${shopB.shopId}&limit=100`)).results.map((order) => order.id)).to.equal(idsOf((order) => order.shop === 'B'));
        expect((await list(`shopId=${shopB.shopId}&buyer=${alice.userId}`)).results.map((order) => order.id)).to.equal(idsOf((order) => order.shop === 'B' && order.buyer === 'alice'));

        expect((await list(`from=${encodeURIComponent(between)}&limit=100`)).results.map((order) => order.id)).to.equal(idsOf(() => true).slice(0, 6));
        expect((await list(`to=${encodeURIComponent(between)}&limit=100`)).results.map((order) => order.id)).to.equal(idsOf(() => true).slice(6));
        expect((await list(`from=${encodeURIComponent(orders[2].createdAt)}&to=${encodeURIComponent(orders[4].createdAt)}`)).results.map((order) => order.id)).to.include(orders[2].id);

        expect((await list(`outTradeNo=${orders[7].outTradeNo}`)).results.map((order) => order.id)).to.equal([orders[7].id]);
        expect((await list(`transactionId=${paid.transactionId}`)).results.map((order) => order.id)).to.equal([paid.id]);
        expect((await list('transactionId=4200000000000000000000000000')).totalCount).to.equal(0);

        expect((await list(`buyer=${alice.userId}&limit=100`)).results.map((order) => order.id)).to.equal(idsOf((order) => order.buyer === 'alice'));
        expect((await list(`buyer=${bob.openid}&limit=100`)).results.map((order) => order.id)).to.equal(idsOf((order) => order.buyer === 'bob'));
        expect((await list('buyer=no-such-openid')).totalCount).to.equal(0);

        for (const bad of ['status=lost', 'from=yesterday', 'shopId=0', 'limit=101', 'page=0', 'totalFee=1']) {
            expect((await merchant(app, finance, 'GET', `/merchant/orders?${bad}`)).statusCode, bad).to.equal(400);
        }
    });

    it('shows one order with its lines and payments', async () => {
        const res = await merchant(app, finance, 'GET', `/merchant/orders/${paid.id}`);
        expect(res.statusCode).to.equal(200);
        expect(res.body).to.include({ id: paid.id, status: 'paid', userId: bob.userId, transactionId: paid.transactionId, totalFee: 550 });
        expect(res.body.items).to.have.length(2);
        expect(res.body.payments).to.have.length(1);
        expect(res.body.payments[0]).to.include({ transactionId: paid.transactionId, totalFee: 550, outcome: 'applied', payerOpenid: bob.openid });
        expect(res.body.payments[0].raw).to.not.exist();

        const unpaid = await merchant(app, finance, 'GET', `/merchant/orders/${orders[0].id}`);
        expect(unpaid.body.payments).to.equal([]);
        expect((await merchant(app, finance, 'GET', '/merchant/orders/999999')).statusCode).to.equal(404);
        expect((await merchant(app, finance, 'GET', '/merchant/orders/abc')).statusCode).to.equal(400);
    });

    it('answers an API key with orders:read', async () => {
        const owner = await staffLogin(app, 'owner');
        const key = await apiKey(app, owner, ['orders:read']);
        const res = await merchant(app, key, 'GET', `/merchant/orders?outTradeNo=${orders[3].outTradeNo}`);
        expect(res.body.results.map((order: any) => order.id)).to.equal([orders[3].id]);
    });

    it('has the indexes the filters use', async () => {
        const queryInterface = app.context.sequelize.getQueryInterface();
        const names = async (table: string) => ((await queryInterface.showIndex(table)) as Array<{ name: string }>).map((index) => index.name);
        expect(await names('orders')).to.include(['orders_status_id', 'orders_created_at', 'orders_user_id_id']);
        expect(await names('order_items')).to.include('order_items_goods_id_order_id');
        expect(await names('goods')).to.include('goods_shop_id_sort_order_id');
    });
});
