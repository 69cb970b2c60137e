import { Order } from '../../models';
import { apiVersionOf } from '../orders/gateway';
import { PayError } from '../wechatpay/client';
import { queryRefund, RefundRequest, RefundState, submitRefund, WechatRefundStatus } from '../wechatpay/refund';
import type { RefundResult, RefundStatus } from '../wechatpay/v3/resources';
import type { RefundContext } from './context';

/**
 * Refunds go over the API version their order was paid with (lib/orders/gateway.ts): v2's /secapi/pay/refund and
 * refundquery, or v3's /v3/refund/domestic/refunds, both seen in v2's shapes by the refund jobs.
 */
export interface RefundPay {
    submit(request: RefundRequest): Promise<{ refundId: string }>;
    /** Undefined when WeChat has no such refund. */
    query(outRefundNo: string): Promise<RefundState | undefined>;
}

const v2StatusOf: Record<RefundStatus, WechatRefundStatus> = {
    SUCCESS: 'SUCCESS',
    PROCESSING: 'PROCESSING',
    ABNORMAL: 'CHANGE',
    CLOSED: 'REFUNDCLOSE'
};

function usesV2(context: RefundContext, order: Pick<Order, 'payApiVersion' | 'sentToWechatAt'>): boolean {
    return apiVersionOf({ ...context, payApiVersion: undefined }, order) === 'v2' || !context.v3;
}

/** Only v2 refunds need the merchant API certificate (mutual TLS on /secapi/); v3 signs every request instead. */
export async function needsMerchantCertificate(context: RefundContext, orderId: number): Promise<boolean> {
    const order = await Order.findByPk(orderId, { attributes: ['id', 'payApiVersion', 'sentToWechatAt'] });
    return !order || usesV2(context, order);
}

export function refundPayFor(context: RefundContext, order: Pick<Order, 'payApiVersion' | 'sentToWechatAt'>): RefundPay {
    if (usesV2(context, order) || !context.v3) {
        return { submit: (request) => submitRefund(context.pay, request), query: (outRefundNo) => queryRefund(context.pay, outRefundNo) };
    }

    const { client, refundNotifyUrl } = context.v3;
    const state = (result: RefundResult): RefundState => ({ outRefundNo: result.outRefundNo, refundId: result.refundId, refundFee: result.refund, status: v2StatusOf[result.status] });
    return {
        async submit(request) {
            const result = await client.refund({
                outTradeNo: request.outTradeNo, outRefundNo: request.outRefundNo, refund: request.refundFee, total: request.totalFee, reason: request.reason, notifyUrl: refundNotifyUrl()
            });
            if (result.outRefundNo !== request.outRefundNo || result.refund !== request.refundFee || !result.refundId) {
                throw new PayError(false, undefined, `refund ${request.outRefundNo}: WeChat accepted something else (out_refund_no ${result.outRefundNo}, refund ${result.refund})`);
            }

            return { refundId: result.refundId };
        },
        async query(outRefundNo) {
            try {
                return state(await client.queryRefund(outRefundNo));
            }
            catch (err) {
                if (err instanceof PayError && err.errCode === 'RESOURCE_NOT_EXISTS') {
                    return undefined;
                }

                throw err;
            }
        }
    };
}
