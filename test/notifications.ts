import * as Crypto from 'crypto';

import { formatBeijingCompact } from '../lib/wechatpay/time';
import type { TestApp } from './helpers';

export type NotificationFields = Record<string, string | number>;

/** A fresh 28-digit transaction_id, as WeChat makes them. */
export function transactionId(): string {
    return `4200${String(Crypto.randomInt(1e9)).padStart(12, '0')}${String(Crypto.randomInt(1e9)).padStart(12, '0')}`;
}

/** The fields of a SUCCESS pay notification (reference §2.7) for one of the app's orders, unsigned; amounts as numbers. */
export function paymentNotification(app: TestApp, order: { outTradeNo: string; totalFee: number }, overrides: NotificationFields = {}): NotificationFields {
    return {
        appid: app.config.wechat.appId,
        bank_type: 'OTHERS',
        cash_fee: order.totalFee,
        fee_type: 'CNY',
        is_subscribe: 'N',
        mch_id: app.config.pay.mchId,
        nonce_str: Crypto.randomBytes(16).toString('hex'),
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        out_trade_no: order.outTradeNo,
        result_code: 'SUCCESS',
        return_code: 'SUCCESS',
        time_end: formatBeijingCompact(new Date()),
        total_fee: order.totalFee,
        trade_type: 'JSAPI',
        transaction_id: transactionId(),
        ...overrides
    };
}
