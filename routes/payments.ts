import type { Plugin } from '@hapi/hapi';

import type { AppContext } from '../lib/context';
import { applyPayment } from '../lib/orders/payments';
import type { NotifyReply } from '../lib/wechatpay/notify';
import { notifyV2 } from '../lib/wechatpay/notify-v2';

// Kept here too for the tests and benchmarks that import it from the route.
export { notifySuccessXml } from '../lib/wechatpay/notify-v2';

const notifyMaxBytes = 16 * 1024;

export const paymentRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-payments',
    register(server, context) {
        const protocol = notifyV2(context.config.pay.apiKey);
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
};
