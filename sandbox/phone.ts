import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import { signV2, SignType } from '../lib/wechatpay/sign';
import { formatBeijingCompact } from '../lib/wechatpay/time';

import type { SimClock } from './clock';
import * as Ids from './ids';
import type { Notifier } from './notifier';
import type { SandboxOptions, SandboxSettings } from './options';
import { Prepay, refusal, Trades } from './trades';
import { showValidationError } from './validation';

/** The paying user's phone: `wx.requestPayment` (JSAPI) or scanning a code_url (NATIVE), reference §2.4. */

export interface PhoneContext {
    options: SandboxOptions;
    settings: SandboxSettings;
    clock: SimClock;
    trades: Trades;
    notifier: Notifier;
}

export interface PayRequest {
    prepayId?: string;
    codeUrl?: string;
    openid?: string;
    appId?: string;
    timeStamp?: string;
    nonceStr?: string;
    package?: string;
    signType?: string;
    paySign?: string;
}

const payloadSchema = Joi.object({
    prepayId: Joi.string().max(64).description('JSAPI: the prepay_id from unifiedorder'),
    codeUrl: Joi.string().max(256).description('NATIVE: the code_url the user scans'),
    openid: Joi.string().max(128).description('NATIVE: who pays (random when absent); JSAPI: must be the order\'s openid if given'),
    appId: Joi.string().max(32),
    timeStamp: Joi.string().max(32),
    nonceStr: Joi.string().max(32),
    package: Joi.string().max(128),
    signType: Joi.string().max(32),
    paySign: Joi.string().max(64).description('checked as the phone checks it, with the other five wx.requestPayment fields (required for a prepayId unless the knob requirePaySign is off)')
})
    .xor('prepayId', 'codeUrl')
    .with('paySign', ['prepayId', 'appId', 'timeStamp', 'nonceStr', 'package', 'signType']);

export const phoneRoutes: Plugin<PhoneContext> = {
    name: 'wxshop-sandbox-phone',
    register(server, context) {
        server.route({
            method: 'POST',
            path: '/__sim/pay',
            options: {
                description: 'The user pays: wx.requestPayment with a prepay_id, or a scan of a NATIVE code_url',
                notes: 'Answers {transactionId, outTradeNo}; the payment notification follows on WeChat\'s retry schedule.',
                tags: ['sandbox'],
                validate: { payload: payloadSchema, failAction: showValidationError }
            },
            handler: (request) => pay(context, request.payload as PayRequest)
        });
    }
};

function pay({ options, settings, clock, trades, notifier }: PhoneContext, payload: PayRequest): { transactionId: string; outTradeNo: string } {
    const prepay = payload.prepayId ? trades.findPrepay(payload.prepayId) : trades.findCodeUrl(payload.codeUrl!);
    if (!prepay) {
        throw Boom.notFound(payload.prepayId ? 'prepay_id无效: no such prepay_id' : '二维码无效: no such code_url');
    }

    // The phone pays a prepay_id only through wx.requestPayment, which always carries paySign; a scanned code_url has none.
    if (payload.paySign !== undefined || (payload.prepayId && settings.requirePaySign)) {
        checkPaySign(payload, prepay, options.apiKey);
    }

    const trade = prepay.trade;
    const refused = refusal(trade);
    if (refused) {
        throw Boom.conflict(`${refused.code}: ${refused.des}`);
    }

    if (!trades.isUsable(prepay)) {
        throw Boom.resourceGone('prepay_id已过期 (PREPAY_EXPIRED): it is valid for 2 hours; call unifiedorder again with the same parameters for a fresh one');
    }

    const now = clock.now();
    if (trade.timeExpire !== undefined && now > trade.timeExpire + settings.payAfterExpireMs) {
        throw Boom.resourceGone(`订单已过期 (ORDER_EXPIRED): time_expire ${formatBeijingCompact(new Date(trade.timeExpire))} has passed`);
    }

    let payer: string;
    if (trade.tradeType === 'JSAPI') {
        if (payload.openid !== undefined && payload.openid !== trade.openid) {
            throw Boom.badRequest('requestPayment:fail 支付用户与下单用户不一致: a JSAPI order is paid by the openid it was placed for');
        }

        payer = trade.openid!;
    }
    else {
        payer = payload.openid ?? Ids.openid();
    }

    trades.pay(trade, payer);
    // Delivery catches its own errors; this only keeps a bug from becoming an unhandled rejection.
    // $lab:coverage:off$
    notifier.notify(trade).catch(() => undefined);
    // $lab:coverage:on$
    return { transactionId: trade.transactionId!, outTradeNo: trade.outTradeNo };
}

/** What the WeChat client checks before it shows the payment sheet (reference §2.4). */
function checkPaySign(payload: PayRequest, prepay: Prepay, apiKey: string): void {
    const trade = prepay.trade;
    const fail = (why: string) => Boom.badRequest(`requestPayment:fail 支付验证签名失败: ${why}`);
    if (payload.paySign === undefined) {
        throw fail('paySign and the other wx.requestPayment fields are missing (the knob requirePaySign is on)');
    }

    if (payload.signType !== trade.signType) {
        throw fail(`signType ${payload.signType} is not the sign_type of unifiedorder (${trade.signType})`);
    }

    if (payload.appId !== trade.appid) {
        throw fail(`appId ${payload.appId} is not the order's appid`);
    }

    if (payload.package !== `prepay_id=${prepay.id}`) {
        throw fail(`package must be "prepay_id=${prepay.id}"`);
    }

    const signed = { appId: payload.appId, timeStamp: payload.timeStamp, nonceStr: payload.nonceStr, package: payload.package, signType: payload.signType };
    if (payload.paySign !== signV2(signed, apiKey, payload.signType as SignType)) {
        throw fail('paySign does not match appId, timeStamp, nonceStr, package and signType signed with the API key');
    }
}
