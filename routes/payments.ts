import type { Plugin, Server } from '@hapi/hapi';

import type { AppContext } from '../lib/context';
import { applyPayment } from '../lib/orders/payments';
import type { NotifyProtocol, NotifyReply } from '../lib/wechatpay/notify';
import { notifyV2 } from '../lib/wechatpay/notify-v2';
import { notifyV3 } from '../lib/wechatpay/notify-v3';

// Kept here too for the tests and benchmarks that import it from the route.
export { notifySuccessXml } from '../lib/wechatpay/notify-v2';

const notifyMaxBytes = 16 * 1024;

/** One pay notify URL: the protocol decides what the bytes mean, this applies the payment and logs. */
function route(server: Server, context: AppContext, path: string, protocol: NotifyProtocol, description: string, contentType: string): void {
    server.route({
        method: 'POST',
        path,
        options: {
            auth: false,
            tags: ['api', 'orders'],
            description,
            notes: 'Believed only when the signature verifies, appid and mch_id are ours and total_fee equals the order\'s. ' +
                'Answers success only after the payment is committed; duplicates get the same answer and change nothing.',
            payload: { parse: false, output: 'data', maxBytes: notifyMaxBytes, failAction: 'error' },
            plugins: { 'hapi-swagger': { consumes: [contentType], produces: [contentType] } }
        },
        handler: async (request, h) => {
            const send = (reply: NotifyReply) => h.response(reply.body).type(reply.contentType).code(reply.statusCode);
            const decision = await protocol.decide(request.payload as Buffer, request.headers);
            if (decision.verdict === 'refused') {
                request.log(['warn', 'notify'], `refused a pay notification (out_trade_no ${decision.outTradeNo ?? '?'}): ${decision.reason}`);
                return send(decision.reply);
            }

            if (decision.verdict === 'no-payment') {
                request.log(['info', 'notify'], `pay notification for ${decision.outTradeNo ?? '?'} reports no payment (${decision.note})`);
                return send(decision.reply);
            }

            const { trade } = decision;
            const result = await applyPayment(context.sequelize, context.merchant, trade, 'notify');
            if (result.outcome === 'rejected') {
                request.log(['error', 'notify'], `refused a signed pay notification for ${trade.outTradeNo}: ${result.reason}. Check it by hand in the merchant platform.`);
            }

            if (result.outcome === 'refund_required') {
                request.log(['error', 'notify'], `order ${result.orderId} was paid after it closed (transaction ${trade.transactionId}): it is flagged for refund.`);
            }

            return send(protocol.replyTo(result.outcome));
        }
    });
}

export const paymentRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-payments',
    register(server, context) {
        // Without a v2 key (a v3-only merchant) nothing could be verified there: no v2 notify URL at all.
        if (context.config.pay.apiKey) {
            route(server, context, '/orders/pay/notify', notifyV2(context.config.pay.apiKey),
                "WeChat Pay's payment notification (API v2 XML; called by WeChat, not by the mini-program)", 'text/xml');
        }

        if (context.v3) {
            route(server, context, '/orders/pay/notify/v3', notifyV3(context.v3.client.verifier, context.config.v3.material!.apiV3Key),
                "WeChat Pay's payment notification (API v3: signed JSON with an encrypted resource; called by WeChat)", 'application/json');
        }
    }
};
