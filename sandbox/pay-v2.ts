import * as Net from 'net';

import type { Plugin } from '@hapi/hapi';

import type { Params } from '../lib/wechatpay/sign';
import { formatBeijingCompact, parseBeijingCompact } from '../lib/wechatpay/time';

import type { SimClock } from './clock';
import type { SandboxSettings } from './options';
import { refusal, Trades, TradeType } from './trades';
import { BusinessError, EnvelopeContext, Fields, v2Route, V2Request } from './v2-envelope';

/** `/pay/unifiedorder`, `/pay/orderquery` and `/pay/closeorder` of WeChat Pay API v2 (reference §2.3, §2.5, §2.6). */

export interface PayV2Context extends EnvelopeContext {
    clock: SimClock;
    trades: Trades;
    settings: SandboxSettings;
}

/** Field limits in UTF-8 bytes, as WeChat counts them. */
const maxBytes: Record<string, number> = {
    device_info: 32,
    nonce_str: 32,
    body: 127,
    detail: 6000,
    attach: 127,
    goods_tag: 32,
    notify_url: 256,
    product_id: 32,
    openid: 128,
    spbill_create_ip: 64
};

const outTradeNoPattern = /^[0-9A-Za-z_\-|*]{6,32}$/;

/** A re-entry may change only these; any other field added, dropped or changed is 201 (community reports). */
const reentryFree = new Set(['nonce_str', 'sign', 'spbill_create_ip']);

export const payV2Routes: Plugin<PayV2Context> = {
    name: 'wxshop-sandbox-pay-v2',
    register(server, context) {
        server.route([
            v2Route('/pay/unifiedorder', 'unifiedorder', context, (request) => unifiedOrder(context, request)),
            v2Route('/pay/orderquery', 'orderquery', context, ({ fields }) => orderQuery(context, fields)),
            v2Route('/pay/closeorder', 'closeorder', context, ({ fields }) => closeOrder(context, fields))
        ]);
    }
};

function unifiedOrder({ clock, trades }: PayV2Context, { fields, signType }: V2Request): Params {
    const tradeType = checkOrderFields(fields);
    const timeExpire = fields.time_expire ? parseBeijingCompact(fields.time_expire)!.getTime() : undefined;
    let trade = trades.find(fields.out_trade_no);
    if (trade) {
        const refused = refusal(trade);
        if (refused) {
            throw new BusinessError(refused.code, refused.des);
        }

        if (trade.fingerprint !== fingerprint(fields)) {
            throw new BusinessError('INVALID_REQUEST', '201 商户订单号重复');
        }
    }
    else {
        // Only a time already past is refused: the docs' 1-minute minimum is a recommendation, and a UTC time sent as
        // Beijing time (the classic bug, 8 hours early) is past anyway.
        if (timeExpire !== undefined && timeExpire <= clock.now()) {
            throw new BusinessError('INVALID_REQUEST', 'time_expire时间过短，失效时间必须晚于当前北京时间');
        }

        trade = trades.create({
            outTradeNo: fields.out_trade_no,
            appid: fields.appid,
            mchId: fields.mch_id,
            signType,
            signTypeGiven: Boolean(fields.sign_type),
            fingerprint: fingerprint(fields),
            tradeType,
            totalFee: Number(fields.total_fee),
            feeType: fields.fee_type || 'CNY',
            notifyUrl: fields.notify_url,
            openid: fields.openid || undefined,
            deviceInfo: fields.device_info || undefined,
            attach: fields.attach || undefined,
            timeExpire
        });
    }

    const prepay = trades.currentPrepay(trade);
    return { device_info: trade.deviceInfo, trade_type: trade.tradeType, prepay_id: prepay.id, code_url: prepay.codeUrl };
}

/** Checks the unifiedorder fields in the order WeChat reports them; answers the trade type. */
function checkOrderFields(fields: Fields): TradeType {
    for (const name of ['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type']) {
        if (!fields[name]) {
            throw new BusinessError('LACK_PARAMS', `缺少参数${name}`);
        }
    }

    for (const [name, limit] of Object.entries(maxBytes)) {
        if (fields[name] && Buffer.byteLength(fields[name]) > limit) {
            throw new BusinessError('PARAM_ERROR', `${name}参数长度有误`);
        }
    }

    if (!outTradeNoPattern.test(fields.out_trade_no)) {
        throw new BusinessError('PARAM_ERROR', 'out_trade_no参数格式错误，应为6-32位数字、大小写字母或_-|*');
    }

    // An integer number of fen, more than 0: 0.12, "1.00" and 0 are refused (reference §0).
    if (!/^[1-9]\d{0,11}$/.test(fields.total_fee)) {
        throw new BusinessError('PARAM_ERROR', 'total_fee参数格式错误，应为以分为单位的正整数');
    }

    if (fields.fee_type && fields.fee_type !== 'CNY') {
        throw new BusinessError('PARAM_ERROR', 'fee_type参数错误，境内商户仅支持CNY');
    }

    if (!Net.isIP(fields.spbill_create_ip)) {
        throw new BusinessError('PARAM_ERROR', 'spbill_create_ip参数格式错误');
    }

    for (const name of ['time_start', 'time_expire']) {
        if (fields[name] && !parseBeijingCompact(fields[name])) {
            throw new BusinessError('PARAM_ERROR', `${name}时间格式错误，应为北京时间yyyyMMddHHmmss`);
        }
    }

    if (!/^https?:\/\/[^/?#\s]+[^?#\s]*$/.test(fields.notify_url)) {
        throw new BusinessError('PARAM_ERROR', 'notify_url参数格式错误，须为http(s)地址且不能携带参数');
    }

    const tradeType = fields.trade_type;
    if (tradeType === 'APP' || tradeType === 'MWEB') {
        throw new BusinessError('NOAUTH', '商户无此接口权限');
    }

    if (tradeType !== 'JSAPI' && tradeType !== 'NATIVE') {
        throw new BusinessError('PARAM_ERROR', 'trade_type参数错误');
    }

    if (tradeType === 'JSAPI' && !fields.openid) {
        throw new BusinessError('LACK_PARAMS', 'JSAPI支付必须传openid');
    }

    if (tradeType === 'NATIVE' && !fields.product_id) {
        throw new BusinessError('LACK_PARAMS', 'trade_type=NATIVE时，product_id为必填参数');
    }

    return tradeType;
}

/** What a re-entry must repeat: every non-empty field but the per-call ones. */
function fingerprint(fields: Fields): string {
    return JSON.stringify(Object.keys(fields)
        .filter((name) => !reentryFree.has(name) && fields[name] !== '')
        .sort()
        .map((name) => [name, fields[name]]));
}

function orderQuery({ trades }: PayV2Context, fields: Fields): Params {
    if (!fields.transaction_id && !fields.out_trade_no) {
        throw new BusinessError('LACK_PARAMS', 'transaction_id和out_trade_no不能同时为空');
    }

    // transaction_id wins when both are given (reference §2.5).
    const trade = fields.transaction_id ? trades.findByTransactionId(fields.transaction_id) : trades.find(fields.out_trade_no);
    if (!trade) {
        throw new BusinessError('ORDERNOTEXIST', '此交易订单号不存在');
    }

    if (trade.state === 'NOTPAY') {
        return { device_info: trade.deviceInfo, out_trade_no: trade.outTradeNo, total_fee: trade.totalFee, trade_state: 'NOTPAY', trade_state_desc: '订单未支付' };
    }

    if (trade.state === 'CLOSED') {
        return { device_info: trade.deviceInfo, out_trade_no: trade.outTradeNo, total_fee: trade.totalFee, trade_state: 'CLOSED', trade_state_desc: '订单已关闭' };
    }

    return {
        device_info: trade.deviceInfo,
        openid: trade.payer,
        is_subscribe: 'N',
        trade_type: trade.tradeType,
        trade_state: trade.state,
        bank_type: trade.bankType,
        total_fee: trade.totalFee,
        fee_type: trade.feeType,
        cash_fee: trade.totalFee,
        cash_fee_type: trade.feeType,
        transaction_id: trade.transactionId,
        out_trade_no: trade.outTradeNo,
        attach: trade.attach,
        time_end: formatBeijingCompact(new Date(trade.paidAt!)),
        trade_state_desc: trade.state === 'REFUND' ? '转入退款' : '支付成功'
    };
}

function closeOrder({ clock, trades, settings }: PayV2Context, fields: Fields): Params {
    if (!fields.out_trade_no) {
        throw new BusinessError('LACK_PARAMS', '缺少参数out_trade_no');
    }

    const trade = trades.find(fields.out_trade_no);
    if (!trade) {
        throw new BusinessError('ORDERNOTEXIST', '此交易订单号不存在');
    }

    const refused = refusal(trade);
    if (refused) {
        throw new BusinessError(refused.code, refused.code === 'ORDERPAID' ? '订单已支付，不能发起关单，请当作已支付的正常交易' : refused.des);
    }

    const guardMs = settings.closeGuardMinutes * 60_000;
    if (clock.now() - trade.createdAt < guardMs) {
        throw new BusinessError('INVALID_REQUEST', `订单生成后不能马上调用关单接口，最短调用时间间隔为${settings.closeGuardMinutes}分钟`);
    }

    trades.close(trade);
    return { result_msg: 'OK' };
}
