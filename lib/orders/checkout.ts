import * as Crypto from 'crypto';

import * as QRCode from 'qrcode';
import { Op } from 'sequelize';

import { Order, OrderItem, TradeType } from '../../models';
import { PayError } from '../wechatpay/client';
import { formatBeijingCompact } from '../wechatpay/time';
import { applyQueriedPayment, PaymentContext } from './payments';
import { nextReconcileDelayMs } from './sync';

/** prepay_id lives 2 hours at WeChat; stop reusing it a little before, so the phone never gets a dead one. */
const prepayLifetimeMs = 2 * 3600_000 - 5 * 60_000;

export class CheckoutRejected extends Error {
    constructor(readonly reason: 'not_unpaid' | 'expired' | 'trade_type_fixed' | 'closed_at_wechat' | 'paid_at_wechat', message: string) {
        super(message);
        this.name = 'CheckoutRejected';
    }
}

export interface JsapiPayment {
    appId: string;
    timeStamp: string;
    nonceStr: string;
    package: string;
    signType: string;
    paySign: string;
}

export interface NativePayment {
    codeUrl: string;
    qrCode: string;
}

export interface CheckoutContext extends PaymentContext {
    notifyUrl: string;
}

/**
 * Gets the order a prepay at WeChat (unifiedorder), or reuses a still-valid one, and answers what the
 * mini-program needs: the re-signed wx.requestPayment parameters (JSAPI) or a QR code (NATIVE).
 */
export async function checkout(context: CheckoutContext, order: Order, input: { tradeType: TradeType; openid: string; clientIp: string }): Promise<JsapiPayment | NativePayment> {
    if (order.status !== 'unpaid') {
        throw new CheckoutRejected('not_unpaid', `Order ${order.id} is ${order.status}`);
    }

    const now = Date.now();
    if (order.expiresAt.getTime() <= now) {
        throw new CheckoutRejected('expired', `Order ${order.id} expired at ${order.expiresAt.toISOString()}`);
    }

    // The same out_trade_no may only be re-ordered with identical parameters: its trade type is fixed on first pay.
    if (order.tradeType && order.tradeType !== input.tradeType) {
        throw new CheckoutRejected('trade_type_fixed', `Order ${order.id} is being paid with ${order.tradeType}`);
    }

    const reusable = order.prepayId && order.prepayExpiresAt && order.prepayExpiresAt.getTime() > now;
    if (!reusable) {
        await orderAtWechat(context, order, input);
    }

    return input.tradeType === 'JSAPI'
        ? jsapiParameters(context, order.prepayId!)
        : { codeUrl: order.codeUrl!, qrCode: await QRCode.toDataURL(order.codeUrl!) };
}

async function orderAtWechat(context: CheckoutContext, order: Order, input: { tradeType: TradeType; openid: string; clientIp: string }): Promise<void> {
    const items = order.items ?? await OrderItem.findAll({ where: { orderId: order.id }, order: [['id', 'ASC']] });
    try {
        const result = await context.pay.unifiedOrder({
            outTradeNo: order.outTradeNo,
            totalFee: order.totalFee,
            body: describe(items),
            tradeType: input.tradeType,
            openid: input.tradeType === 'JSAPI' ? input.openid : undefined,
            productId: input.tradeType === 'NATIVE' ? String(order.id) : undefined,
            clientIp: input.clientIp,
            notifyUrl: context.notifyUrl,
            timeExpire: formatBeijingCompact(order.expiresAt)
        });
        const changes = {
            tradeType: input.tradeType,
            prepayId: result.prepayId,
            codeUrl: result.codeUrl ?? null,
            prepayExpiresAt: new Date(Date.now() + prepayLifetimeMs),
            nextReconcileAt: order.nextReconcileAt ?? new Date(Date.now() + nextReconcileDelayMs(0))
        };
        await Order.update(changes, { where: { id: order.id, status: 'unpaid', tradeType: { [Op.or]: [null, input.tradeType] } } });
        order.set(changes);
    }
    catch (err) {
        if (err instanceof PayError && err.errCode === 'ORDERPAID') {
            await applyQueriedPayment(context, order.outTradeNo);
            throw new CheckoutRejected('paid_at_wechat', `Order ${order.id} is already paid`);
        }

        if (err instanceof PayError && err.errCode === 'ORDERCLOSED') {
            throw new CheckoutRejected('closed_at_wechat', `Order ${order.id} was closed at WeChat`);
        }

        throw err;
    }
}

/** The `body` WeChat shows the payer: the first line's name, and how many more (at most 127 characters). */
function describe(items: OrderItem[]): string {
    const first = items[0]?.name ?? 'wxshop order';
    const text = items.length > 1 ? `${first} 等${items.length}件商品` : first;
    return [...text].slice(0, 40).join('');
}

/** The parameters of wx.requestPayment, re-signed with the merchant key (reference §2.4). */
function jsapiParameters(context: CheckoutContext, prepayId: string): JsapiPayment {
    const fields = {
        appId: context.merchant.appId,
        timeStamp: String(Math.floor(Date.now() / 1000)),
        nonceStr: Crypto.randomBytes(16).toString('hex'),
        package: `prepay_id=${prepayId}`,
        signType: context.pay.signType
    };
    return { ...fields, paySign: context.pay.sign(fields) };
}
