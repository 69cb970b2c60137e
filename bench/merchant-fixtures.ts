/** What the merchant scenarios need before their clock starts: a logged-in staff member, orders in bulk, paid orders. */
import * as Crypto from 'crypto';

import { Op } from 'sequelize';

import { createStaff } from '../lib/merchant/staff';
import { Order, OrderItem } from '../models';
import { ApiKey, MerchantAction, Staff, StaffRole } from '../models/merchant';
import type { BenchApp } from './app';
import { createUnpaidOrders, GoodsRow, inParallel, postJson } from './fixtures';

/** A new staff account made as the CLI makes one, logged in through POST /merchant/login: its Authorization header. */
export async function staffAuthorization(app: BenchApp, role: StaffRole): Promise<string> {
    const username = `bench-${role}-${Crypto.randomBytes(4).toString('hex')}`;
    const password = Crypto.randomBytes(18).toString('base64url');
    await createStaff({ Staff, ApiKey, MerchantAction }, { username, password, role });
    const res = await postJson(`${app.base}/merchant/login`, { username, password });
    if (res.status !== 200) {
        throw new Error(`merchant login failed: ${res.status} ${JSON.stringify(res.body)}`);
    }

    return `Bearer ${res.body.token}`;
}

/** `count` orders of one user with one line each, every third one `paid` (written in bulk, not through the app). */
export async function createOrderHistory(userId: number, count: number, tag: string, goods: GoodsRow): Promise<void> {
    const orders = await createUnpaidOrders(userId, count, tag);
    for (let start = 0; start < orders.length; start += 1000) {
        await OrderItem.bulkCreate(orders.slice(start, start + 1000).map((order) => ({ orderId: order.id, goodsId: goods.id, name: goods.name, price: order.totalFee, count: 1 })) as any[]);
    }

    const paid = orders.filter((_, index) => index % 3 === 0).map((order) => order.id);
    for (let start = 0; start < paid.length; start += 1000) {
        await Order.update({ status: 'paid', paidAt: new Date() }, { where: { id: paid.slice(start, start + 1000) } });
    }
}

/**
 * `count` orders paid for real: made unpaid in bulk for one buyer, then each paid through the app (POST /orders/{id}/pay)
 * and the simulated phone, so WeChat's side (the simulator) knows a paid trade for each, as a refund needs.
 */
export async function createPaidOrders(app: BenchApp, buyer: { userId: number; token: string }, count: number, tag: string): Promise<number[]> {
    const orders = await createUnpaidOrders(buyer.userId, count, tag);
    await inParallel(orders.length, 16, async (index) => {
        const params = await postJson(`${app.base}/orders/${orders[index].id}/pay`, {}, { authorization: `Bearer ${buyer.token}` });
        if (params.status !== 200) {
            throw new Error(`pay failed: ${params.status} ${JSON.stringify(params.body)}`);
        }

        const paid = await postJson(`${app.base}/sandbox/__sim/pay`, { prepayId: params.body.package.slice('prepay_id='.length), ...params.body });
        if (paid.status !== 200) {
            throw new Error(`the simulated phone could not pay: ${paid.status} ${JSON.stringify(paid.body)}`);
        }
    });
    // The notifications follow the phone's pay; wait for them (30 s at most).
    const countPaid = () => Order.count({ where: { outTradeNo: { [Op.like]: `${tag}%` }, status: 'paid' } });
    let paidCount = await countPaid();
    for (const deadline = Date.now() + 30_000; paidCount < count && Date.now() < deadline; paidCount = await countPaid()) {
        await new Promise((resolve) => setTimeout(resolve, 200));
    }

    if (paidCount !== count) {
        throw new Error(`${count} orders paid at the simulator but ${paidCount} are paid here`);
    }

    return orders.map((order) => order.id);
}
