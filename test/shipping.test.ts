import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { pollShipments, uploadShipments } from '../lib/jobs/shipments';
import { orderHistory } from '../lib/orders/events';
import { Order, Shipment } from '../models';
import { MerchantAction } from '../models/merchant';
import { getOrder, json, sim, startApp, TestApp } from './helpers';
import { apiKey, merchant, staffLogin, StaffLogin } from './merchant-helpers';
import { express, ops, paidOrder, ship, shippedPushDelivered } from './shipping-helpers';

const { expect } = Code;
const { describe, it, before, after, beforeEach } = exports.lab = Lab.script();

describe('shipping and settlement', () => {

    let app: TestApp;
    let operator: StaffLogin;
    let owner: StaffLogin;
    before(async () => {
        app = await startApp();
        operator = await staffLogin(app, 'operator');
        owner = await staffLogin(app, 'owner');
    });
    after(() => app.stop());

    beforeEach(async () => {
        await ops(app, 'settings', { shippingSyncLagSeconds: 0, tradeManaged: true });
    });

    const upload = (now = new Date()) => uploadShipments(app.context, now);
    const shipmentOf = async (orderId: number) => (await Shipment.findAll({ where: { orderId }, order: [['id', 'ASC']] })).map((row) => row.get({ plain: true }));
    const wechatRecord = async (transactionId: string) => (await ops(app, `orders/${transactionId}`, undefined, 'GET')).body;
    const statusOf = async (orderId: number) => (await Order.findByPk(orderId))!.status;

    describe('POST /merchant/orders/{id}/shipments', () => {

        it('ships a paid order: shipped here, the shipment uploaded to WeChat by the job, visible to buyer and merchant', async () => {
            const { user, order, transactionId } = await paidOrder(app, { count: 2 });
            const res = await ship(app, operator, order.id, express('SF1234567890'));
            expect(res.statusCode).to.equal(201);
            expect(res.body).to.include({ logisticsType: 1, deliveryMode: 1, reship: false, uploadStatus: 'pending' });
            expect(res.body.shippingList[0].itemDesc).to.match(/^Goods 1\*2$/);
            expect(await statusOf(order.id)).to.equal('shipped');

            expect((await wechatRecord(transactionId)).order_state).to.equal(1);
            expect(await upload()).to.equal(1);
            const record = await wechatRecord(transactionId);
            expect(record.order_state).to.equal(2);
            expect(record.shipping.shipping_list[0]).to.include({ tracking_no: 'SF1234567890', express_company: 'SF', item_desc: 'Goods 1*2' });

            const buyer = await getOrder(app, user, order.id);
            expect(buyer.body.status).to.equal('shipped');
            expect(buyer.body.shipments).to.equal([{ id: res.body.id, logisticsType: 1, parcels: [{ trackingNo: 'SF1234567890', expressCompany: 'SF', itemDesc: 'Goods 1*2' }], createdAt: buyer.body.shipments[0].createdAt }]);
            const detail = await merchant(app, owner, 'GET', `/merchant/orders/${order.id}`);
            expect(detail.body.shipments[0]).to.include({ uploadStatus: 'uploaded', uploadAttempts: 1 });

            const history = (await orderHistory(order.id)).map((event) => `${event.fromStatus} → ${event.toStatus} ${event.actorKind}`);
            expect(history).to.include('paid → shipped staff');
            expect(await MerchantAction.count({ where: { action: 'order.ship', targetId: order.id } })).to.equal(1);
        });

        it('takes owner and operator and an orders:write key; finance, a read key, a buyer and no token are refused', async () => {
            const { order, user } = await paidOrder(app);
            const finance = await staffLogin(app, 'finance');
            const readKey = await apiKey(app, owner, ['orders:read']);
            expect((await ship(app, finance, order.id)).statusCode).to.equal(403);
            expect((await ship(app, readKey, order.id)).statusCode).to.equal(403);
            expect((await ship(app, user, order.id)).statusCode).to.equal(401);
            expect((await ship(app, undefined, order.id)).statusCode).to.equal(401);
            expect(await statusOf(order.id)).to.equal('paid');
            expect(await shipmentOf(order.id)).to.have.length(0);

            const writeKey = await apiKey(app, owner, ['orders:write']);
            expect((await ship(app, writeKey, order.id)).statusCode).to.equal(201);
            const other = await paidOrder(app);
            expect((await ship(app, owner, other.order.id)).statusCode).to.equal(201);
        });

        it('refuses what WeChat would refuse with a 400 and changes nothing', async () => {
            const { order } = await paidOrder(app);
            const bad = [
                { logisticsType: 1, deliveryMode: 1, shippingList: [{ trackingNo: 'X1', expressCompany: 'NOPE' }] },
                { logisticsType: 1, deliveryMode: 1, shippingList: [{ trackingNo: 'X1', expressCompany: 'SF' }] },
                { logisticsType: 1, deliveryMode: 1, shippingList: [{ trackingNo: 'X1', expressCompany: 'SF', contact: { receiverContact: '18912341234' } }] },
                { logisticsType: 1, deliveryMode: 1, shippingList: [{ expressCompany: 'YD' }] },
                { logisticsType: 2, deliveryMode: 2, isAllDelivered: true, shippingList: [{ itemDesc: 'a' }, { itemDesc: 'b' }] },
                { logisticsType: 1, deliveryMode: 2, shippingList: [{ trackingNo: 'A', expressCompany: 'YD' }, { trackingNo: 'B', expressCompany: 'YD' }] },
                { logisticsType: 1, deliveryMode: 1, shippingList: [{ trackingNo: 'A', expressCompany: 'YD' }, { trackingNo: 'B', expressCompany: 'YD' }] },
                { logisticsType: 3, deliveryMode: 1, shippingList: [{ itemDesc: 'x'.repeat(121) }] },
                { logisticsType: 1, deliveryMode: 2, isAllDelivered: true, shippingList: Array.from({ length: 11 }, (_, i) => ({ trackingNo: `T${i}`, expressCompany: 'YD' })) },
                { logisticsType: 5, deliveryMode: 1, shippingList: [{ itemDesc: 'x' }] },
                { logisticsType: 3, deliveryMode: 1, shippingList: [{ itemDesc: 'x', trackingNo: 'T' }] }
            ];
            for (const payload of bad) {
                const res = await ship(app, operator, order.id, payload);
                expect(res.statusCode, JSON.stringify(payload)).to.equal(400);
            }

            expect(await statusOf(order.id)).to.equal('paid');
            expect(await shipmentOf(order.id)).to.have.length(0);
            expect((await ship(app, operator, 999999)).statusCode).to.equal(404);
        });

        it('an unpaid order cannot be shipped (409)', async () => {
            const { order } = await paidOrder(app);
            const placed = await json(app.server, { method: 'GET', url: `/merchant/orders?status=unpaid`, headers: owner.auth });
            const unpaid = placed.body.results[0];
            if (unpaid) {
                expect((await ship(app, operator, unpaid.id)).statusCode).to.equal(409);
            }

            await Order.update({ status: 'closed' }, { where: { id: order.id } });
            expect((await ship(app, operator, order.id)).statusCode).to.equal(409);
        });

        it('virtual goods, same-city and pick-up need no tracking number; split delivery ships when all parcels are sent', async () => {
            for (const logisticsType of [2, 3, 4]) {
                const { order, transactionId } = await paidOrder(app);
                expect((await ship(app, operator, order.id, { logisticsType, shippingList: [{ itemDesc: '会员卡*1' }] })).statusCode).to.equal(201);
                await upload();
                const record = await wechatRecord(transactionId);
                expect(record).to.include({ order_state: 2 });
                expect(record.shipping.logistics_type).to.equal(logisticsType);
            }

            const { order, transactionId } = await paidOrder(app);
            const first = await ship(app, operator, order.id, { logisticsType: 1, deliveryMode: 2, isAllDelivered: false, shippingList: [{ trackingNo: 'YD1', expressCompany: 'YD' }] });
            expect(first.statusCode).to.equal(201);
            expect(await statusOf(order.id)).to.equal('paid');
            await upload();
            expect((await wechatRecord(transactionId)).order_state).to.equal(1);
            const second = await ship(app, operator, order.id, { logisticsType: 1, deliveryMode: 2, isAllDelivered: true, shippingList: [{ trackingNo: 'YD2', expressCompany: 'YD' }] });
            expect(second.statusCode).to.equal(201);
            expect(await statusOf(order.id)).to.equal('shipped');
            await upload(new Date(Date.now() + 10));
            const record = await wechatRecord(transactionId);
            expect(record.order_state).to.equal(2);
            expect(record.shipping.shipping_list.map((parcel: any) => parcel.tracking_no)).to.equal(['YD1', 'YD2']);
        });

        it('re-ships a shipped order once: uploaded again, and a second re-ship is a 409', async () => {
            const { order, transactionId } = await paidOrder(app);
            expect((await ship(app, operator, order.id, express('SF0001'))).statusCode).to.equal(201);
            await upload();
            const reship = await ship(app, operator, order.id, express('SF0002'));
            expect(reship.statusCode).to.equal(201);
            expect(reship.body.reship).to.be.true();
            await upload(new Date(Date.now() + 10));
            const record = await wechatRecord(transactionId);
            expect(record.shipping.finish_shipping_count).to.equal(2);
            expect(record.shipping.shipping_list[0].tracking_no).to.equal('SF0002');
            expect((await ship(app, operator, order.id, express('SF0003'))).statusCode).to.equal(409);
            expect(await MerchantAction.count({ where: { action: 'order.reship', targetId: order.id } })).to.equal(1);
        });
    });

    describe('the upload job', () => {

        it('retries "not yet synced" (10060001) after payment until WeChat knows the payment', async () => {
            await ops(app, 'settings', { shippingSyncLagSeconds: 60 });
            const { order, transactionId } = await paidOrder(app);
            await ship(app, operator, order.id);
            const now = new Date();
            expect(await upload(now)).to.equal(0);
            let [shipment] = await shipmentOf(order.id);
            expect(shipment).to.include({ uploadStatus: 'pending', uploadAttempts: 1 });
            expect(shipment.lastError).to.contain('10060001');
            expect(shipment.nextAttemptAt!.getTime()).to.equal(now.getTime() + 60_000);
            expect(await upload(new Date(now.getTime() + 30_000))).to.equal(0);           // not due yet

            await sim(app, 'clock', { advanceMs: 61_000 });
            expect(await upload(new Date(now.getTime() + 60_000))).to.equal(1);
            [shipment] = await shipmentOf(order.id);
            expect(shipment).to.include({ uploadStatus: 'uploaded', uploadAttempts: 2 });
            expect((await wechatRecord(transactionId)).order_state).to.equal(2);
        });

        it('retries a transient error (-1) on a backoff, and gives up on a refusal for a person', async () => {
            const { order } = await paidOrder(app);
            await ship(app, operator, order.id);
            await ops(app, 'faults', { api: 'upload_shipping_info', errcode: -1 });
            await ops(app, 'faults', { api: 'upload_shipping_info', http500: true });
            const now = new Date();
            expect(await upload(now)).to.equal(0);
            const [first] = await shipmentOf(order.id);
            expect(first.nextAttemptAt!.getTime()).to.equal(now.getTime() + 10_000);
            expect(await upload(new Date(now.getTime() + 10_000))).to.equal(0);
            const [second] = await shipmentOf(order.id);
            expect(second.nextAttemptAt!.getTime()).to.equal(now.getTime() + 10_000 + 30_000);
            expect(second.lastError).to.contain('HTTP 502');
            expect(await upload(new Date(now.getTime() + 40_000))).to.equal(1);

            const refused = await paidOrder(app);
            await ship(app, operator, refused.order.id);
            await ops(app, 'faults', { api: 'upload_shipping_info', errcode: 10060004 });
            expect(await upload()).to.equal(0);
            const [failed] = await shipmentOf(refused.order.id);
            expect(failed.uploadStatus).to.equal('failed');
            expect(failed.nextAttemptAt).to.be.null();
        });
    });

    describe('settlement', () => {

        it('the buyer confirms receipt at WeChat: the push moves the order to received and completed', async () => {
            const { user, order, transactionId } = await paidOrder(app);
            await ship(app, operator, order.id);
            await upload();
            const confirmed = await ops(app, 'confirm-receipt', { transactionId });
            expect(confirmed.statusCode, JSON.stringify([await shipmentOf(order.id), await wechatRecord(transactionId)])).to.equal(200);
            expect(await statusOf(order.id)).to.equal('completed');
            const history = (await orderHistory(order.id)).map((event) => `${event.fromStatus} → ${event.toStatus} ${event.actorKind}`);
            expect(history.slice(-3)).to.equal(['paid → shipped staff', 'shipped → received wechat', 'received → completed wechat']);
            expect((await getOrder(app, user, order.id)).body.status).to.equal('completed');
        });

        it('a lost push is caught by the get_order poll', async () => {
            const { order, transactionId } = await paidOrder(app);
            await ship(app, operator, order.id);
            const now = new Date();
            await upload(now);
            await shippedPushDelivered(app, transactionId);
            await ops(app, 'push-faults', { mode: 'drop', times: 1 });
            await ops(app, 'confirm-receipt', { transactionId });
            expect(await statusOf(order.id)).to.equal('shipped');

            expect(await pollShipments(app.context, now)).to.equal(0);          // not due yet
            const due = new Date(now.getTime() + app.config.ops.pollSeconds * 1000);
            expect(await pollShipments(app.context, due)).to.equal(1);
            expect(await statusOf(order.id)).to.equal('completed');
            const [shipment] = await shipmentOf(order.id);
            expect(shipment.nextCheckAt).to.be.null();
        });

        it('a duplicated push changes nothing twice', async () => {
            const { order, transactionId } = await paidOrder(app);
            await ship(app, operator, order.id);
            await upload();
            await shippedPushDelivered(app, transactionId);
            await ops(app, 'push-faults', { mode: 'duplicate' });
            await ops(app, 'confirm-receipt', { transactionId });
            const pushes = (await ops(app, 'pushes', undefined, 'GET')).body.filter((push: any) => push.transactionId === transactionId && push.outcome === 'success');
            expect(pushes.length as number).to.be.above(1);
            const moves = (await orderHistory(order.id)).filter((event) => event.actorKind === 'wechat' && event.fromStatus !== 'unpaid');
            expect(moves.map((event) => event.toStatus)).to.equal(['received', 'completed']);
        });

        // Last: it moves the simulator's clock days ahead.
        it('WeChat confirms by itself after the configured days on its clock', async () => {
            const { order } = await paidOrder(app);
            await ship(app, operator, order.id, { logisticsType: 3, shippingList: [{ itemDesc: 'card' }] });
            await upload();
            await ops(app, 'tick');
            expect(await statusOf(order.id)).to.equal('shipped');
            await sim(app, 'clock', { advanceMs: 2 * 86_400_000 + 1000 });
            await ops(app, 'tick');
            expect(await statusOf(order.id)).to.equal('completed');
        });
    });

    describe('GET /merchant/delivery-companies', () => {

        it("serves WeChat's courier list, cached", async () => {
            const res = await merchant(app, operator, 'GET', '/merchant/delivery-companies');
            expect(res.statusCode).to.equal(200);
            expect(res.body).to.contain({ id: 'SF', name: '顺丰速运' });
            expect((await merchant(app, undefined, 'GET', '/merchant/delivery-companies')).statusCode).to.equal(401);
            const before = (await ops(app, 'api-calls', undefined, 'GET')).body.get_delivery_list;
            expect((await merchant(app, owner, 'GET', '/merchant/delivery-companies')).statusCode).to.equal(200);
            expect((await ops(app, 'api-calls', undefined, 'GET')).body.get_delivery_list).to.equal(before);
        });
    });
});
