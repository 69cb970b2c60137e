import { Order, Refund } from '../../models';
import { decryptReqInfo } from '../wechatpay/req-info';
import { parseFlatXml } from '../wechatpay/xml';
import type { RefundContext } from './context';
import { endOf, settleRefund } from './settle';

export type NotificationResult =
    | { outcome: 'applied' | 'duplicate'; outRefundNo: string }
    | { outcome: 'ignored'; reason: string }
    | { outcome: 'rejected'; reason: string };

/**
 * A refund notification (reference §2.10): no signature, so it is believed only when req_info decrypts with our
 * key, appid and mch_id are ours, and the refund it names is ours with the same order and amount.
 */
export async function applyRefundNotification(context: RefundContext, outer: Record<string, string>): Promise<NotificationResult> {
    if (outer.return_code !== 'SUCCESS') {
        return { outcome: 'ignored', reason: `return_code ${outer.return_code}: ${outer.return_msg ?? ''}` };
    }

    if (outer.appid !== context.merchant.appId || outer.mch_id !== context.merchant.mchId) {
        return { outcome: 'rejected', reason: `appid ${outer.appid} / mch_id ${outer.mch_id} are not ours` };
    }

    let fields: Record<string, string>;
    try {
        fields = await parseFlatXml(decryptReqInfo(outer.req_info ?? '', context.apiKey), 'root');
    }
    catch (err) {
        return { outcome: 'rejected', reason: `req_info does not decrypt with our key: ${(err as Error).message}` };
    }

    const end = endOf[fields.refund_status as keyof typeof endOf];
    if (!end) {
        return { outcome: 'rejected', reason: `refund_status "${fields.refund_status}" is not SUCCESS, CHANGE or REFUNDCLOSE` };
    }

    const refund = await Refund.findOne({ where: { outRefundNo: fields.out_refund_no ?? '' } });
    const order = refund && await Order.findByPk(refund.orderId, { attributes: ['id', 'outTradeNo'] });
    if (!refund || !order) {
        // Refunds made by hand in the merchant platform notify too: they are real money, for a person to record.
        return { outcome: 'rejected', reason: `no refund of ours has out_refund_no ${fields.out_refund_no}` };
    }

    if (order.outTradeNo !== fields.out_trade_no || Number(fields.refund_fee) !== refund.amount) {
        return { outcome: 'rejected', reason: `refund ${refund.outRefundNo} is ${refund.amount} fen of ${order.outTradeNo}, not ${fields.refund_fee} of ${fields.out_trade_no}` };
    }

    const applied = await settleRefund(context, refund.id, end, { wechatStatus: fields.refund_status, refundId: fields.refund_id });
    return { outcome: applied ? 'applied' : 'duplicate', outRefundNo: refund.outRefundNo };
}
