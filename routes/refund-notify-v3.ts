import type { Plugin } from '@hapi/hapi';

import type { AppContext } from '../lib/context';
import { applyRefundNotificationV3 } from '../lib/refunds/notification-v3';
import { decodeV3, v3Failure, v3Received } from '../lib/wechatpay/notify-v3';

/** WeChat Pay's API v3 refund notification (reference §3.10), registered only with v3 material: thin. */
export const refundNotifyV3Routes: Plugin<AppContext> = {
    name: 'wxshop-routes-refund-notify-v3',
    register(server, context) {
        const v3 = context.v3;
        if (!v3) {
            return;
        }

        server.route({
            method: 'POST',
            path: '/orders/refund/notify/v3',
            options: {
                auth: false,
                tags: ['api', 'orders'],
                description: "WeChat Pay's refund notification (API v3: signed JSON with an encrypted resource; called by WeChat)",
                notes: 'Believed only when the signature verifies, the resource decrypts with the APIv3 key and names one of our refunds with its order and amount. ' +
                    'Answers 204 only after the refund is settled; duplicates get the same answer and change nothing.',
                payload: { parse: false, output: 'data', maxBytes: 16 * 1024, failAction: 'error' },
                plugins: { 'hapi-swagger': { consumes: ['application/json'], produces: ['application/json'] } }
            },
            handler: async (request, h) => {
                const send = (reply: { statusCode: number; contentType: string; body: string }) => h.response(reply.body).type(reply.contentType).code(reply.statusCode);
                const decoded = await decodeV3(request.payload as Buffer, request.headers, v3.client.verifier, context.config.v3.material!.apiV3Key);
                if ('failure' in decoded) {
                    request.log(['warn', 'notify'], `refused a v3 refund notification: ${decoded.failure}`);
                    return send(v3Failure(decoded.failure));
                }

                const result = await applyRefundNotificationV3(context.refunds, decoded);
                if (result.outcome === 'rejected') {
                    request.log(['error', 'notify'], `refused a v3 refund notification: ${result.reason}. Check it by hand in the merchant platform.`);
                    return send(v3Failure('notification not accepted'));
                }

                if (result.outcome === 'ignored') {
                    request.log(['info', 'notify'], `v3 refund notification reports nothing to apply (${result.reason})`);
                }

                return send(v3Received);
            }
        });
    }
};
