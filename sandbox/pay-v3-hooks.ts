import * as Crypto from 'crypto';

import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import { payMessage, rsaVerify } from '../lib/wechatpay/v3/signature';
import { formatRfc3339Beijing } from '../lib/wechatpay/v3/time';

import * as Ids from './ids';
import type { V3Fault } from './pay-v3-envelope';
import type { V3NotifyFault } from './pay-v3-notifier';
import { transactionResource } from './pay-v3-resources';
import type { PayRequest } from './phone';
import { PayV3RoutesContext, settleRefund } from './pay-v3-routes';
import type { V3Prepay } from './pay-v3-trades';
import { showValidationError } from './validation';

/** The phone paying a v3 order, and the v3 test hooks under `/__sim/v3/`. */

export interface PayV3HooksContext extends PayV3RoutesContext {
    armFault(endpoint: string, fault: V3Fault, times: number): void;
}

export const v3FaultEndpoints = ['jsapi', 'native', 'query', 'close', 'refund', 'refundquery', 'certificates'];

const signatureFaults = ['badsign', 'signtest', 'stale', 'unknownserial', 'nosign'];

function pay(context: PayV3HooksContext, payload: PayRequest): { transactionId: string; outTradeNo: string } {
    const { v3Trades, clock, v3Notifier } = context;
    const prepay = payload.prepayId ? v3Trades.findPrepay(payload.prepayId) : v3Trades.findCodeUrl(payload.codeUrl!);
    if (!prepay) {
        throw Boom.notFound(payload.prepayId ? 'prepay_id无效: no such v3 prepay_id' : '二维码无效: no such v3 code_url');
    }

    const trade = prepay.trade;
    if (trade.tradeType === 'JSAPI') {
        checkPaySign(context, payload, prepay);
    }

    if (trade.state !== 'NOTPAY') {
        throw Boom.conflict(`${trade.state === 'CLOSED' ? 'ORDER_CLOSED: 订单已关闭' : 'ORDERPAID: 订单已支付'}`);
    }

    if (!v3Trades.isUsable(prepay)) {
        throw Boom.resourceGone('prepay_id已过期 (PREPAY_EXPIRED): it is valid for 2 hours; order again with the same parameters for a fresh one');
    }

    if (clock.now() > trade.timeExpire) {
        throw Boom.resourceGone(`订单已过期 (ORDER_EXPIRED): time_expire ${formatRfc3339Beijing(new Date(trade.timeExpire))} has passed`);
    }

    if (trade.tradeType === 'JSAPI' && payload.openid !== undefined && payload.openid !== trade.openid) {
        throw Boom.badRequest('requestPayment:fail 支付用户与下单用户不一致: a JSAPI order is paid by the openid it was placed for');
    }

    v3Trades.pay(trade, trade.openid ?? payload.openid ?? Ids.openid());
    // $lab:coverage:off$
    v3Notifier.notify({
        eventType: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        originalType: 'transaction',
        resource: transactionResource(trade),
        notifyUrl: trade.notifyUrl,
        key: trade.outTradeNo
    }).catch(() => undefined);
    // $lab:coverage:on$
    return { transactionId: trade.transactionId!, outTradeNo: trade.outTradeNo };
}

/** What the WeChat client checks before it shows the payment sheet for v3 (reference §3.6). */
function checkPaySign({ merchant }: PayV3HooksContext, payload: PayRequest, prepay: V3Prepay): void {
    const fail = (why: string) => Boom.badRequest(`requestPayment:fail 支付验证签名失败: ${why}`);
    if (payload.paySign === undefined) {
        throw fail('paySign, timeStamp, nonceStr, package, signType and appId are required');
    }

    if (payload.signType !== 'RSA') {
        throw fail(`signType must be RSA for API v3 (got ${payload.signType})`);
    }

    if (payload.appId !== prepay.trade.appid) {
        throw fail(`appId ${payload.appId} is not the order's appid`);
    }

    if (payload.package !== `prepay_id=${prepay.id}`) {
        throw fail(`package must be "prepay_id=${prepay.id}"`);
    }

    if (!rsaVerify(payMessage(payload.appId!, payload.timeStamp!, payload.nonceStr!, payload.package), payload.paySign, merchant.publicKey)) {
        throw fail('paySign is not an RSA-SHA256 signature of appId\\ntimeStamp\\nnonceStr\\npackage\\n by the merchant key');
    }
}

export const payV3Hooks: Plugin<PayV3HooksContext> = {
    name: 'wxshop-sandbox-pay-v3-hooks',
    register(server, context) {
        const { v3Settings, keys, v3Notifier, v3Trades } = context;
        server.route({
            method: 'POST',
            path: '/__sim/v3/pay',
            options: {
                description: 'The user pays a v3 order: wx.requestPayment (JSAPI, paySign checked) or a scan of a NATIVE code_url',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        prepayId: Joi.string().max(64),
                        codeUrl: Joi.string().max(256),
                        openid: Joi.string().max(128),
                        appId: Joi.string().max(32),
                        timeStamp: Joi.string().max(32),
                        nonceStr: Joi.string().max(32),
                        package: Joi.string().max(128),
                        signType: Joi.string().max(32),
                        paySign: Joi.string().max(1024)
                    }).xor('prepayId', 'codeUrl'),
                    failAction: showValidationError
                }
            },
            handler: (request) => pay(context, request.payload as PayRequest)
        });

        server.route({
            method: 'GET',
            path: '/__sim/v3/keys',
            options: { description: "WeChat's v3 keys for this merchant: the public key and its id, the platform certificates", tags: ['sandbox'] },
            handler: () => ({
                mode: v3Settings.mode,
                publicKeyId: keys.publicKey.id,
                publicKey: Crypto.createPublicKey(keys.publicKey.privateKey).export({ type: 'spki', format: 'pem' }),
                platformCertificates: keys.platform.map((key) => ({ serial: key.serial, certificate: key.certificatePem }))
            })
        });

        server.route({
            method: 'POST',
            path: '/__sim/v3/rotate',
            options: { description: 'Add a platform certificate; the newest signs from now on, the old ones stay valid', tags: ['sandbox'] },
            handler: () => ({ serial: keys.rotate(context.clock.now()).serial })
        });

        server.route({
            method: 'POST',
            path: '/__sim/v3/faults',
            options: {
                description: 'Make the next v3 call(s) of an endpoint fail or be signed wrongly',
                notes: 'errcode: status + code (default 500 SYSTEM_ERROR); http500: an HTML 502; timeout: answer after delayMs; '
                    + 'badsign, signtest (WECHATPAY/SIGNTEST/ probe), stale (timestamp 10 minutes old), unknownserial, nosign.',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        endpoint: Joi.string().valid(...v3FaultEndpoints).required(),
                        kind: Joi.string().valid('errcode', 'http500', 'timeout', ...signatureFaults).required(),
                        status: Joi.number().integer().min(400).max(599),
                        code: Joi.string().max(32),
                        delayMs: Joi.number().integer().min(0).max(120_000),
                        times: Joi.number().integer().min(1).max(1000).default(1)
                    }),
                    failAction: showValidationError
                }
            },
            handler: (request, h) => {
                const { endpoint, times, ...fault } = request.payload as V3Fault & { endpoint: string; times: number };
                context.armFault(endpoint, fault, times);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'POST',
            path: '/__sim/v3/notify-faults',
            options: {
                description: 'Disturb the next v3 notification(s): drop, duplicate, delay, or a signature fault on the first attempt',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        mode: Joi.string().valid('drop', 'duplicate', 'delay', ...signatureFaults).required(),
                        times: Joi.number().integer().min(1).max(1000).default(1),
                        count: Joi.number().integer().min(1).max(20),
                        delayMs: Joi.number().integer().min(0).max(600_000).when('mode', { is: 'delay', then: Joi.required() })
                    }),
                    failAction: showValidationError
                }
            },
            handler: (request, h) => {
                const { times, ...fault } = request.payload as V3NotifyFault & { times: number };
                v3Notifier.armFault(fault, times);
                return h.response().code(204);
            }
        });

        server.route({
            method: 'GET',
            path: '/__sim/v3/notifications',
            options: { description: 'The v3 notification delivery log, newest last', tags: ['sandbox'] },
            handler: () => v3Notifier.log
        });

        server.route({
            method: 'POST',
            path: '/__sim/v3/settings',
            options: {
                description: "The v3 knobs; answers all of them. mode switches the merchant while running",
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        mode: Joi.string().valid('platform', 'publicKey', 'switch'),
                        refundIntervalSeconds: Joi.number().min(0).max(86400),
                        autoSettleRefunds: Joi.boolean(),
                        refundDelaySeconds: Joi.number().min(0).max(86400),
                        callbackPublicKeyShare: Joi.number().min(0).max(1)
                    }).allow(null),
                    failAction: showValidationError
                }
            },
            handler: (request) => Object.assign(v3Settings, request.payload)
        });

        server.route({
            method: 'POST',
            path: '/__sim/v3/refunds/{outRefundNo}',
            options: {
                description: 'Settle a refund: SUCCESS, ABNORMAL or CLOSED; its notification follows',
                tags: ['sandbox'],
                validate: { payload: Joi.object({ status: Joi.string().valid('SUCCESS', 'ABNORMAL', 'CLOSED').required() }), failAction: showValidationError }
            },
            handler: (request) => {
                const refund = v3Trades.findRefund(String(request.params.outRefundNo));
                if (!refund) {
                    throw Boom.notFound('no such out_refund_no');
                }

                try {
                    settleRefund(context, refund, (request.payload as { status: 'SUCCESS' }).status);
                }
                catch (err) {
                    throw Boom.conflict((err as Error).message);
                }

                return { outRefundNo: refund.outRefundNo, status: refund.status };
            }
        });
    }
};
