import type { Plugin, ResponseToolkit } from '@hapi/hapi';

import type { AppContext } from '../lib/context';
import { applyPayment } from '../lib/orders/payments';
import { paidTrade } from '../lib/wechatpay/client';
import { verifyV2 } from '../lib/wechatpay/sign';
import { parseFlatXml, toXml, XmlFormatError } from '../lib/wechatpay/xml';

/** The only reply WeChat takes as "received" (reference §2.7). */
export const notifySuccessXml = toXml({ return_code: 'SUCCESS', return_msg: 'OK' });

const notifyMaxBytes = 16 * 1024;

function reply(h: ResponseToolkit, code: number, xml: string) {
    return h.response(xml).type('text/xml').code(code);
}

function fail(h: ResponseToolkit, code: number, message: string) {
    return reply(h, code, toXml({ return_code: 'FAIL', return_msg: message }));
}

export const paymentRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-payments',
    register(server, context) {
        server.route({
            method: 'POST',
            path: '/orders/pay/notify',
            options: {
                auth: false,
                tags: ['api', 'orders'],
                description: "WeChat Pay's payment notification (API v2 XML; called by WeChat, not by the mini-program)",
                notes: 'Believed only when the signature verifies, appid and mch_id are ours and total_fee equals the order\'s. ' +
                    'Answers the success XML only after the payment is committed; duplicates get the same answer and change nothing.',
                payload: { parse: false, output: 'data', maxBytes: notifyMaxBytes, failAction: 'error' },
                plugins: { 'hapi-swagger': { consumes: ['text/xml'], produces: ['text/xml'] } }
            },
            handler: async (request, h) => {
                const raw = request.payload as Buffer;
                let fields: Record<string, string>;
                try {
                    fields = await parseFlatXml(raw);
                }
                catch (err) {
                    if (err instanceof XmlFormatError) {
                        request.log(['warn', 'notify'], `refused a pay notification that is not WeChat XML: ${err.message}`);
                        return fail(h, 400, 'malformed XML');
                    }

                    throw err;
                }

                if (!verifyV2(fields, context.config.pay.apiKey)) {
                    request.log(['warn', 'notify'], `refused a pay notification whose signature does not verify (out_trade_no ${fields.out_trade_no ?? '?'}): forged, or WECHATPAY_KEY is wrong`);
                    return fail(h, 400, 'invalid signature');
                }

                if (fields.return_code !== 'SUCCESS' || fields.result_code !== 'SUCCESS') {
                    request.log(['info', 'notify'], `pay notification for ${fields.out_trade_no ?? '?'} reports no payment (${fields.return_code}/${fields.result_code} ${fields.err_code ?? ''})`);
                    return reply(h, 200, notifySuccessXml);
                }

                const result = await applyPayment(context.sequelize, context.merchant, paidTrade(fields), 'notify');
                if (result.outcome === 'rejected') {
                    request.log(['error', 'notify'], `refused a signed pay notification for ${fields.out_trade_no}: ${result.reason}. Check it by hand in the merchant platform.`);
                    return fail(h, 400, 'notification does not match the order');
                }

                if (result.outcome === 'refund_required') {
                    request.log(['error', 'notify'], `order ${result.orderId} was paid after it closed (transaction ${fields.transaction_id}): it is flagged for refund.`);
                }

                return reply(h, 200, notifySuccessXml);
            }
        });
    }
};
