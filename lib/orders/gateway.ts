import * as Crypto from 'crypto';

import type { PayApiVersion } from '../../config/pay-v3';
import type { Order } from '../../models';
import type { PayV2Client, QueryResult, UnifiedOrderRequest, UnifiedOrderResult } from '../wechatpay/client';
import { parseBeijingCompact } from '../wechatpay/time';
import type { PayV3Client } from '../wechatpay/v3/client';

/**
 * The one place that picks WeChat Pay v2 or v3 for an order. An order keeps the API version it was first sent to
 * WeChat with (orders.pay_api_version) for every later query, close and refund, so a merchant that moves to v3 still
 * settles its v2 orders over v2; new payments use the server's version. Both APIs are seen through `OrderPay`, in
 * the v2 shapes the order code was written for (v3 errors already carry v2's err_code spelling).
 */

/** A merchant's v3 side: the client and where WeChat sends v3 notifications. */
export interface PayV3Setup {
    client: PayV3Client;
    notifyUrl: () => string;
    refundNotifyUrl: () => string;
}

export interface PayGatewayContext {
    pay: PayV2Client;
    v3?: PayV3Setup;
    /** The version new payments use (v2 when absent). */
    payApiVersion?: PayApiVersion;
    merchant: { appId: string };
    clock: { now(): number };
}

/** What `wx.requestPayment` takes: signType MD5/HMAC-SHA256 (v2) or RSA (v3). */
export interface JsapiPayment {
    appId: string;
    timeStamp: string;
    nonceStr: string;
    package: string;
    signType: string;
    paySign: string;
}

export interface OrderPay {
    readonly apiVersion: PayApiVersion;
    unifiedOrder(request: UnifiedOrderRequest): Promise<UnifiedOrderResult>;
    orderQuery(outTradeNo: string): Promise<QueryResult>;
    closeOrder(outTradeNo: string): Promise<void>;
    requestPayment(prepayId: string): JsapiPayment;
}

/** The version an order is (or, if never sent to WeChat, would now be) paid with; sent before the column: v2. */
export function apiVersionOf(context: PayGatewayContext, order: Pick<Order, 'payApiVersion' | 'sentToWechatAt'>): PayApiVersion {
    return order.payApiVersion ?? (order.sentToWechatAt ? 'v2' : context.payApiVersion ?? 'v2');
}

export function payFor(context: PayGatewayContext, order: Pick<Order, 'payApiVersion' | 'sentToWechatAt'>): OrderPay {
    const version = apiVersionOf(context, order);
    if (version === 'v2') {
        return v2Pay(context);
    }

    if (!context.v3) {
        // Config validation makes v3 material required for v3; an order paid under v3 needs it for good.
        throw new Error('this order was paid with WeChat Pay API v3, but no v3 material is configured (WECHATPAY_APIV3_KEY...)');
    }

    return v3Pay(context.v3);
}

function v2Pay(context: PayGatewayContext): OrderPay {
    const { pay } = context;
    return {
        apiVersion: 'v2',
        unifiedOrder: (request) => pay.unifiedOrder(request),
        orderQuery: (outTradeNo) => pay.orderQuery(outTradeNo),
        closeOrder: (outTradeNo) => pay.closeOrder(outTradeNo),
        requestPayment(prepayId) {
            // Re-signed with the merchant key (reference §2.4).
            const fields = {
                appId: context.merchant.appId,
                timeStamp: String(Math.floor(context.clock.now() / 1000)),
                nonceStr: Crypto.randomBytes(16).toString('hex'),
                package: `prepay_id=${prepayId}`,
                signType: pay.signType
            };
            return { ...fields, paySign: pay.sign(fields) };
        }
    };
}

function v3Pay({ client, notifyUrl }: PayV3Setup): OrderPay {
    return {
        apiVersion: 'v3',
        async unifiedOrder(request) {
            const { prepayId, codeUrl } = await client.prepay({
                tradeType: request.tradeType,
                outTradeNo: request.outTradeNo,
                description: request.body,
                total: request.totalFee,
                openid: request.openid,
                notifyUrl: notifyUrl(),
                timeExpire: parseBeijingCompact(request.timeExpire)!,
                clientIp: request.clientIp
            });
            // v3 Native answers only a code_url: it stands for the prepay (reused while valid, queried until paid).
            return { prepayId: prepayId ?? codeUrl!, codeUrl };
        },
        orderQuery: (outTradeNo) => client.query(outTradeNo),
        closeOrder: (outTradeNo) => client.close(outTradeNo),
        requestPayment: (prepayId) => client.requestPayment(prepayId)
    };
}
