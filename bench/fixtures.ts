/** The data a scenario needs, made before its clock starts: catalogue, users and tokens, login codes, unpaid orders, signed notifications. */
import * as Crypto from 'crypto';

import { Op } from 'sequelize';

import { Goods, Order, Shop, User } from '../models';
import { signV2 } from '../lib/wechatpay/sign';
import { formatBeijingCompact } from '../lib/wechatpay/time';
import { toXml } from '../lib/wechatpay/xml';
import type { BenchApp } from './app';

export interface GoodsRow {
    id: number;
    name: string;
    price: number;
}

export async function createCatalogue(goodsCount: number, stock: number): Promise<{ shopId: number; goods: GoodsRow[] }> {
    const shop = await Shop.create({ name: `Bench ${Crypto.randomBytes(3).toString('hex')}`, description: 'benchmark shop', logoUrl: null });
    const created = await Goods.bulkCreate(Array.from({ length: goodsCount }, (_, index) => ({
        shopId: shop.id,
        name: `Bench goods ${index + 1}`,
        thumbUrl: `https://example.com/goods/${index + 1}.jpg`,
        price: 100 + index,
        stock
    })) as any[]);
    return { shopId: shop.id, goods: created.map((row) => ({ id: row.id, name: row.name, price: row.price })) };
}

export async function stockOf(goodsIds: number[]): Promise<number> {
    return Number(await Goods.sum('stock', { where: { id: goodsIds } }));
}

/** POST JSON to the app, bounded in time. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000)
    });
    const text = await response.text();
    try {
        return { status: response.status, body: JSON.parse(text) };
    }
    catch {
        return { status: response.status, body: text };
    }
}

/** Runs `task` for 0..count-1 with at most `parallel` in flight. */
export async function inParallel<T>(count: number, parallel: number, task: (index: number) => Promise<T>): Promise<T[]> {
    const results = new Array<T>(count);
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
        while (next < count) {
            const index = next++;
            results[index] = await task(index);
        }
    }));
    return results;
}

/** Single-use wx.login() codes minted by the simulator (POST /sandbox/__sim/login-codes), for the given openids in turn. */
export async function mintCodes(app: BenchApp, count: number, openids: string[]): Promise<string[]> {
    return inParallel(count, 16, async (index) => {
        const minted = await postJson(`${app.base}/sandbox/__sim/login-codes`, { openid: openids[index % openids.length] });
        if (minted.status !== 200) {
            throw new Error(`minting a login code failed: ${minted.status} ${JSON.stringify(minted.body)}`);
        }

        return minted.body.code as string;
    });
}

export function benchOpenids(count: number, tag: string): string[] {
    return Array.from({ length: count }, (_, index) => `o${tag}${String(index).padStart(27 - tag.length, '0')}`);
}

export interface LoggedIn {
    token: string;
    userId: number;
    openid: string;
}

/** wx.login() then POST /users/login through the app, as a mini-program would. */
export async function loginUsers(app: BenchApp, openids: string[]): Promise<LoggedIn[]> {
    const codes = await mintCodes(app, openids.length, openids);
    return inParallel(openids.length, 8, async (index) => {
        const res = await postJson(`${app.base}/users/login`, { code: codes[index] });
        if (res.status !== 200) {
            throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
        }

        return { token: res.body.token, userId: res.body.user.id, openid: openids[index] };
    });
}

export interface UnpaidOrder {
    id: number;
    outTradeNo: string;
    totalFee: number;
}

/** `count` unpaid orders of one user, written in bulk through the models, each with a unique out_trade_no starting with `tag`. */
export async function createUnpaidOrders(userId: number, count: number, tag: string): Promise<UnpaidOrder[]> {
    const expiresAt = new Date(Date.now() + 3600_000);
    const chunk = 1000;
    for (let start = 0; start < count; start += chunk) {
        await Order.bulkCreate(Array.from({ length: Math.min(chunk, count - start) }, (_, i) => ({
            userId,
            outTradeNo: `${tag}${String(start + i).padStart(24 - tag.length, '0')}`,
            status: 'unpaid' as const,
            totalFee: 100 + ((start + i) % 9900),
            expiresAt
        })) as any[], { validate: false });
    }

    const rows = await Order.findAll({ where: { outTradeNo: { [Op.like]: `${tag}%` } }, attributes: ['id', 'outTradeNo', 'totalFee'], order: [['id', 'ASC']], raw: true });
    if (rows.length !== count) {
        throw new Error(`created ${rows.length} orders, wanted ${count}`);
    }

    return rows as UnpaidOrder[];
}

export async function countPaid(tag: string): Promise<number> {
    return Order.count({ where: { outTradeNo: { [Op.like]: `${tag}%` }, status: 'paid' } });
}

export async function createUser(openid: string): Promise<number> {
    return (await User.create({ openid, unionid: null })).id;
}

let transactionSequence = 0;

/** A fresh WeChat transaction_id: 28 digits, unique within this run. */
export function transactionId(now: Date): string {
    return `4200${formatBeijingCompact(now).slice(0, 8)}${String(++transactionSequence).padStart(16, '0')}`;
}

export interface Merchant {
    appId: string;
    mchId: string;
    apiKey: string;
}

/** The fields of a WeChat Pay v2 payment notification for `order` (reference §2.7), signed with MD5 like WeChat's default. */
export function notificationFields(merchant: Merchant, order: UnpaidOrder, openid: string): Record<string, string> {
    const now = new Date();
    const fields: Record<string, string> = {
        appid: merchant.appId,
        bank_type: 'CMC',
        cash_fee: String(order.totalFee),
        fee_type: 'CNY',
        is_subscribe: 'N',
        mch_id: merchant.mchId,
        nonce_str: Crypto.randomBytes(16).toString('hex'),
        openid,
        out_trade_no: order.outTradeNo,
        result_code: 'SUCCESS',
        return_code: 'SUCCESS',
        time_end: formatBeijingCompact(now),
        total_fee: String(order.totalFee),
        trade_type: 'JSAPI',
        transaction_id: transactionId(now)
    };
    fields.sign = signV2(fields, merchant.apiKey);
    return fields;
}

export function notificationXml(fields: Record<string, string>): string {
    return toXml(fields);
}

/**
 * A count read once the app has finished the requests autocannon abandoned when its clock ran out: polled until
 * it stops moving (at most 5 s).
 */
export async function settledCount(count: () => Promise<number>): Promise<number> {
    let last = await count();
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const now = await count();
        if (now === last) {
            return now;
        }

        last = now;
    }

    return last;
}
