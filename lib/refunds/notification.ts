import { Order, Refund } from '../../models';
import { decryptReqInfo } from '../wechatpay/req-info';
import { parseFlatXml } from '../wechatpay/xml';
import type { RefundContext } from './context';
import { endOf, RefundEnd, settleRefund } from './settle';

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

    return applyRefundEnd(context, {
        outRefundNo: fields.out_refund_no ?? '', outTradeNo: fields.out_trade_no, refundFee: Number(fields.refund_fee), end, wechatStatus: fields.refund_status, refundId: fields.refund_id
    });
}

/** What a refund notification (v2 or v3) says, once it is believed to come from WeChat. */
export interface RefundEndReport {
    outRefundNo: string;
    outTradeNo: string;
    /** fen */
    refundFee: number;
    end: RefundEnd;
    wechatStatus: string;
    refundId?: string;
}

/** Settles the refund a notification names, if it is ours with the same order and amount. */
export async function applyRefundEnd(context: RefundContext, report: RefundEndReport): Promise<NotificationResult> {
    const refund = await Refund.findOne({ where: { outRefundNo: report.outRefundNo } });
    const order = refund && await Order.findByPk(refund.orderId, { attributes: ['id', 'outTradeNo'] });
    if (!refund || !order) {
        // Refunds made by hand in the merchant platform notify too: they are real money, for a person to record.
        return { outcome: 'rejected', reason: `no refund of ours has out_refund_no ${report.outRefundNo}` };
    }

    if (order.outTradeNo !== report.outTradeNo || report.refundFee !== refund.amount) {
        return { outcome: 'rejected', reason: `refund ${refund.outRefundNo} is ${refund.amount} fen of ${order.outTradeNo}, not ${report.refundFee} of ${report.outTradeNo}` };
    }

    const applied = await settleRefund(context, refund.id, report.end, { wechatStatus: report.wechatStatus, refundId: report.refundId });
    return { outcome: applied ? 'applied' : 'duplicate', outRefundNo: refund.outRefundNo };
}
