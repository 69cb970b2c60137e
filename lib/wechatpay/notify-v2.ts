import type { PaymentOutcome } from '../orders/payments';
import { paidTrade } from './client';
import type { NotifyDecision, NotifyProtocol, NotifyReply } from './notify';
import { verifyV2 } from './sign';
import { parseFlatXml, toXml } from './xml';

/** The only reply WeChat takes as "received" (reference §2.7). */
export const notifySuccessXml = toXml({ return_code: 'SUCCESS', return_msg: 'OK' });

const received: NotifyReply = { statusCode: 200, contentType: 'text/xml', body: notifySuccessXml };

function failure(message: string): NotifyReply {
    return { statusCode: 400, contentType: 'text/xml', body: toXml({ return_code: 'FAIL', return_msg: message }) };
}

/**
 * The API v2 pay notification (reference §2.7): a flat XML body believed only when its signature over every field
 * received verifies with the merchant's API key. The facts (appid, mch_id, the amount, the order) are checked
 * where every payment is believed, by applyPayment.
 */
export function notifyV2(apiKey: string): NotifyProtocol {
    return {
        decide: (raw) => decideV2(raw, apiKey),
        replyTo: (outcome: PaymentOutcome) => outcome === 'rejected' ? failure('notification does not match the order') : received
    };
}

async function decideV2(raw: Buffer, apiKey: string): Promise<NotifyDecision> {
    let fields: Record<string, string>;
    try {
        fields = await parseFlatXml(raw);
    }
    catch (err) {
        // parseFlatXml throws only XmlFormatError: whatever it refused is not WeChat's XML.
        return { verdict: 'refused', reason: `not WeChat XML: ${(err as Error).message}`, reply: failure('malformed XML') };
    }

    const outTradeNo = fields.out_trade_no;
    if (!verifyV2(fields, apiKey)) {
        return { verdict: 'refused', reason: 'the signature does not verify: forged, or WECHATPAY_KEY is wrong', outTradeNo, reply: failure('invalid signature') };
    }

    if (fields.return_code !== 'SUCCESS' || fields.result_code !== 'SUCCESS') {
        return { verdict: 'no-payment', note: `${fields.return_code}/${fields.result_code} ${fields.err_code ?? ''}`.trim(), outTradeNo, reply: received };
    }

    return { verdict: 'paid', trade: paidTrade(fields) };
}
