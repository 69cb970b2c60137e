import type { Plugin } from '@hapi/hapi';

import type { AppContext } from '../lib/context';
import { applyRefundNotification } from '../lib/refunds/notification';
import { parseFlatXml, toXml, XmlFormatError } from '../lib/wechatpay/xml';
import { notifySuccessXml } from './payments';

/** WeChat Pay's refund notification (reference §2.10): thin; lib/refunds/notification.ts decides. */
export const refundNotifyRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-refund-notify',
    register(server, context) {
        // A v3-only merchant has no v2 key to decrypt req_info with: no v2 refund notify URL.
        if (!context.config.pay.apiKey) {
            return;
        }

        server.route({
            method: 'POST',
            path: '/orders/refund/notify',
            options: {
                auth: false,
                tags: ['api', 'orders'],
                description: "WeChat Pay's refund notification (API v2 XML with an encrypted req_info; called by WeChat)",
                notes: 'Believed only when req_info decrypts with the API key and names one of our refunds with its order and amount. ' +
                    'Answers the success XML only after the refund is settled; duplicates get the same answer and change nothing.',
                payload: { parse: false, output: 'data', maxBytes: 16 * 1024, failAction: 'error' },
                plugins: { 'hapi-swagger': { consumes: ['text/xml'], produces: ['text/xml'] } }
            },
            handler: async (request, h) => {
                const fail = (message: string) => h.response(toXml({ return_code: 'FAIL', return_msg: message })).type('text/xml').code(400);
                let fields: Record<string, string>;
                try {
                    fields = await parseFlatXml(request.payload as Buffer);
                }
                catch (err) {
                    if (err instanceof XmlFormatError) {
                        request.log(['warn', 'notify'], `refused a refund notification that is not WeChat XML: ${err.message}`);
                        return fail('malformed XML');
                    }

                    throw err;
                }

                const result = await applyRefundNotification(context.refunds, fields);
                if (result.outcome === 'rejected') {
                    request.log(['error', 'notify'], `refused a refund notification: ${result.reason}. Check it by hand in the merchant platform.`);
                    return fail('notification not accepted');
                }

                if (result.outcome === 'ignored') {
                    request.log(['info', 'notify'], `refund notification reports nothing to apply (${result.reason})`);
                }

                return h.response(notifySuccessXml).type('text/xml');
            }
        });
    }
};
