import * as Https from 'https';

import type { ClientCertificate } from '../../config/refunds';
import { PayError, PayV2Client } from './client';

/** `/secapi/pay/refund` and `/pay/refundquery` of WeChat Pay v2 (reference §2.8, §2.9). */

export interface RefundRequest {
    outTradeNo: string;
    outRefundNo: string;
    /** fen: the order's whole amount, and this refund's. */
    totalFee: number;
    refundFee: number;
    reason: string;
    notifyUrl: string;
}

/** WeChat's word on one refund: refundquery's refund_status_$n, or a notification's refund_status. */
export type WechatRefundStatus = 'PROCESSING' | 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';

export interface RefundState {
    outRefundNo: string;
    refundId: string;
    refundFee: number;
    status: WechatRefundStatus;
}

const refundStatuses = new Set<string>(['PROCESSING', 'SUCCESS', 'CHANGE', 'REFUNDCLOSE']);

/** The agent that presents the merchant API certificate; `ca` adds a CA to trust (the standalone simulator's). */
export function merchantTlsAgent(certificate: ClientCertificate | undefined, ca?: string): Https.Agent {
    return new Https.Agent({ keepAlive: false, ...certificate, ...(ca ? { ca } : {}) });
}

/** Resolves to WeChat's refund_id once it has accepted the refund (accepted, not refunded: reference §2.8). */
export async function submitRefund(pay: PayV2Client, request: RefundRequest): Promise<{ refundId: string }> {
    const answer = await pay.call('/secapi/pay/refund', {
        out_trade_no: request.outTradeNo,
        out_refund_no: request.outRefundNo,
        total_fee: request.totalFee,
        refund_fee: request.refundFee,
        refund_fee_type: 'CNY',
        refund_desc: request.reason,
        notify_url: request.notifyUrl
    });
    if (answer.out_refund_no !== request.outRefundNo || Number(answer.refund_fee) !== request.refundFee || !answer.refund_id) {
        throw new PayError(false, undefined, `refund ${request.outRefundNo}: WeChat accepted something else (out_refund_no ${answer.out_refund_no}, refund_fee ${answer.refund_fee})`);
    }

    return { refundId: answer.refund_id };
}

/** Where one refund stands at WeChat; undefined when WeChat has no such refund (REFUNDNOTEXIST). */
export async function queryRefund(pay: PayV2Client, outRefundNo: string): Promise<RefundState | undefined> {
    let answer: Record<string, string>;
    try {
        answer = await pay.call('/pay/refundquery', { out_refund_no: outRefundNo });
    }
    catch (err) {
        if (err instanceof PayError && err.errCode === 'REFUNDNOTEXIST') {
            return undefined;
        }

        throw err;
    }

    const count = Number(answer.refund_count);
    for (let n = 0; n < count; ++n) {
        if (answer[`out_refund_no_${n}`] === outRefundNo) {
            const status = answer[`refund_status_${n}`];
            if (!refundStatuses.has(status)) {
                throw new PayError(true, undefined, `refundquery of ${outRefundNo} answered an unknown refund_status "${status}"`);
            }

            return { outRefundNo, refundId: answer[`refund_id_${n}`], refundFee: Number(answer[`refund_fee_${n}`]), status: status as WechatRefundStatus };
        }
    }

    throw new PayError(true, undefined, `refundquery of ${outRefundNo} answered without that refund`);
}
