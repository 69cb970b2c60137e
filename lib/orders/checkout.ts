import * as QRCode from 'qrcode';
import { Op } from 'sequelize';

import { Order, OrderItem, TradeType } from '../../models';
import { PayError, UnifiedOrderResult } from '../wechatpay/client';
import { formatBeijingCompact } from '../wechatpay/time';
import { closeClosedAtWechat, requestClose } from './close';
import { apiVersionOf, JsapiPayment, payFor } from './gateway';
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

export type { JsapiPayment } from './gateway';

export interface NativePayment {
    codeUrl: string;
    qrCode: string;
}

export interface CheckoutContext extends PaymentContext {
    notifyUrl: string;
}

/**
 * WeChat refuses a time_expire less than 5 minutes ahead (reference §2.3). A first pay with less left than this
 * extends the order's expiry to it; the minute over the 5 covers the call and clock skew.
 */
export const minTimeExpireLeadMs = 6 * 60_000;

/**
 * Gets the order a prepay at WeChat (unifiedorder), or reuses a still-valid one, and answers what the
 * mini-program needs: the re-signed wx.requestPayment parameters (JSAPI) or a QR code (NATIVE).
 *
 * Before WeChat is called the order is marked sent with its trade type, by a conditional update: a cancel racing
 * this then closes at WeChat (never only here), and a racing pay with the other trade type loses with a 409. The
 * answer is given only if the prepay was stored on a still-unpaid order (exactly one row changed).
 */
export async function checkout(context: CheckoutContext, order: Order, input: { tradeType: TradeType; openid: string; clientIp: string }): Promise<JsapiPayment | NativePayment> {
    const now = context.clock.now();
    order = await claimForPay(context, order, input.tradeType, now);

    const reusable = order.prepayId && order.prepayExpiresAt && order.prepayExpiresAt.getTime() > now;
    if (!reusable) {
        await orderAtWechat(context, order, input);
    }

    return input.tradeType === 'JSAPI'
        ? payFor(context, order).requestPayment(order.prepayId!)
        : { codeUrl: order.codeUrl!, qrCode: await QRCode.toDataURL(order.codeUrl!) };
}

/** Marks the order sent to WeChat with this trade type (extending a too-short expiry on the first pay), or says why not. */
async function claimForPay(context: CheckoutContext, order: Order, tradeType: TradeType, now: number): Promise<Order> {
    const first = !order.sentToWechatAt;
    const changes: Partial<Order['_creationAttributes']> = { tradeType };
    if (first) {
        changes.sentToWechatAt = new Date(now);
        changes.payApiVersion = apiVersionOf(context, order);
        if (order.expiresAt.getTime() > now && order.expiresAt.getTime() < now + minTimeExpireLeadMs) {
            changes.expiresAt = new Date(now + minTimeExpireLeadMs);
        }
    }

    const [affected] = await Order.update(changes, {
        where: {
            id: order.id,
            status: 'unpaid',
            expiresAt: { [Op.gt]: new Date(now) },
            ...(first ? { sentToWechatAt: null } : { tradeType })
        }
    });
    if (affected !== 1) {
        const fresh = (await Order.findByPk(order.id))!;
        // Two first pays of one type at once: the loser goes on as a repeat pay (WeChat's re-entry answers both).
        if (first && fresh.sentToWechatAt && fresh.status === 'unpaid' && fresh.tradeType === tradeType) {
            return claimForPay(context, Object.assign(order, { sentToWechatAt: fresh.sentToWechatAt, payApiVersion: fresh.payApiVersion, expiresAt: fresh.expiresAt, tradeType }), tradeType, now);
        }

        throw refusal(fresh, tradeType, now);
    }

    order.set(changes);
    return order;
}

/** Why an order cannot be paid now, as the 409 the client gets. */
function refusal(order: Order, tradeType: TradeType, now: number): CheckoutRejected {
    if (order.status !== 'unpaid') {
        return new CheckoutRejected('not_unpaid', `Order ${order.id} is ${order.status}`);
    }

    if (order.expiresAt.getTime() <= now) {
        return new CheckoutRejected('expired', `Order ${order.id} expired at ${order.expiresAt.toISOString()}`);
    }

    // The same out_trade_no may only be re-ordered with identical parameters: its trade type is fixed on first pay.
    if (order.tradeType && order.tradeType !== tradeType) {
        return new CheckoutRejected('trade_type_fixed', `Order ${order.id} is being paid with ${order.tradeType}; its trade type is fixed`);
    }

    // $lab:coverage:off$ (a claim refused for none of the reasons above: another pay changed the order meanwhile)
    return new CheckoutRejected('not_unpaid', `Order ${order.id} changed while being paid, try again`);
    // $lab:coverage:on$
}

async function orderAtWechat(context: CheckoutContext, order: Order, input: { tradeType: TradeType; openid: string; clientIp: string }): Promise<void> {
    const items = order.items ?? await OrderItem.findAll({ where: { orderId: order.id }, order: [['id', 'ASC']] });
    const pay = payFor(context, order);
    let result: UnifiedOrderResult;
    try {
        result = await pay.unifiedOrder({
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
    }
    catch (err) {
        if (err instanceof PayError && err.errCode === 'ORDERPAID') {
            await applyQueriedPayment(context, order.outTradeNo, pay);
            throw new CheckoutRejected('paid_at_wechat', `Order ${order.id} is already paid`);
        }

        if (err instanceof PayError && err.errCode === 'ORDERCLOSED') {
            await closedAtWechat(context, order);
            throw new CheckoutRejected('closed_at_wechat', `Order ${order.id} was closed at WeChat`);
        }

        throw err;
    }

    const now = context.clock.now();
    const changes = {
        prepayId: result.prepayId,
        codeUrl: result.codeUrl ?? null,
        prepayExpiresAt: new Date(now + prepayLifetimeMs),
        nextReconcileAt: order.nextReconcileAt ?? new Date(now + nextReconcileDelayMs(0))
    };
    const [affected] = await Order.update(changes, { where: { id: order.id, status: 'unpaid', tradeType: input.tradeType } });
    if (affected !== 1) {
        // Cancelled (or paid) while WeChat was answering: that prepay must never reach the phone.
        throw refusal((await Order.findByPk(order.id))!, input.tradeType, now);
    }

    order.set(changes);
}

/**
 * unifiedorder answered ORDERCLOSED: unless orderquery says the trade was paid after all (then it is applied), the
 * order is closed here and its stock released.
 */
async function closedAtWechat(context: CheckoutContext, order: Order): Promise<void> {
    const { state, payment } = await applyQueriedPayment(context, order.outTradeNo, payFor(context, order));
    if (payment) {
        throw new CheckoutRejected('paid_at_wechat', `Order ${order.id} is already paid`);
    }

    const fresh = (await Order.findByPk(order.id))!;
    if (state === 'CLOSED' || state === 'ORDERNOTEXIST') {
        await closeClosedAtWechat(context, fresh);
    }
    else {
        // orderquery contradicts it (NOTPAY): a payable trade may exist, so close it at WeChat first.
        await requestClose(context, fresh);
    }
}

/** The `body` WeChat shows the payer: the first line's name, and how many more, cut to WeChat's 127 UTF-8 bytes. */
export function describe(items: Pick<OrderItem, 'name'>[]): string {
    const first = items[0]?.name ?? 'wxshop order';
    const more = items.length > 1 ? ` 等${items.length}件商品` : '';
    return cutToBytes(first, bodyMaxBytes - Buffer.byteLength(more)) + more;
}

const bodyMaxBytes = 127;

/** The longest prefix of whole code points that fits in `maxBytes` of UTF-8. */
function cutToBytes(text: string, maxBytes: number): string {
    let cut = '';
    let bytes = 0;
    for (const char of text) {
        bytes += Buffer.byteLength(char);
        if (bytes > maxBytes) {
            break;
        }

        cut += char;
    }

    return cut;
}
