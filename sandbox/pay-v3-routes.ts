import type { Plugin } from '@hapi/hapi';

import { parseRfc3339 } from '../lib/wechatpay/v3/time';

import type { SandboxOptions, SandboxSettings } from './options';
import { Json, V3EnvelopeContext, V3Error, v3Route } from './pay-v3-envelope';
import type { V3Notifier } from './pay-v3-notifier';
import { refundNotifyResource, refundResource, transactionResource } from './pay-v3-resources';
import type { V3Refund, V3Trade, V3Trades } from './pay-v3-trades';
import type { Trades } from './trades';

/** The WeChat Pay API v3 endpoints (reference §3.4–§3.10) with the same rules as v2: re-entry, prepay life, close window. */

export interface PayV3RoutesContext extends V3EnvelopeContext {
    options: SandboxOptions;
    settings: SandboxSettings;
    trades: Trades;
    v3Trades: V3Trades;
    v3Notifier: V3Notifier;
    refundNotifyUrl?: string;
}

const outTradeNoPattern = /^[0-9A-Za-z_\-*]{6,32}$/;
const outRefundNoPattern = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const maxRefunds = 50;
const dayMs = 86400_000;

const paramError = (field: string, issue: string) => new V3Error(400, 'PARAM_ERROR', `参数格式校验错误: ${field} ${issue}`, { field, location: 'body', issue });

/** Why a trade cannot be ordered again, closed or paid. The HTTP status of ORDERPAID is not documented: 400, as ORDER_CLOSED. */
function refusal(trade: V3Trade): V3Error | undefined {
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') {
        return new V3Error(400, 'ORDERPAID', '订单已支付');
    }

    return trade.state === 'CLOSED' ? new V3Error(400, 'ORDER_CLOSED', '订单已关闭') : undefined;
}

function bytes(value: unknown, field: string, max: number, required = true): string | undefined {
    if (value === undefined && !required) {
        return undefined;
    }

    if (typeof value !== 'string' || value === '' || Buffer.byteLength(value) > max) {
        throw paramError(field, `必须是长度不超过${max}字节的字符串`);
    }

    return value;
}

/** An integer number of fen, at least 1: 0.12, "100" and 0 are refused (reference §0). */
function fen(value: unknown, field: string): number {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
        throw paramError(field, '此字段需要一个合法的 64 位有符号整数，且大于0');
    }

    return value as number;
}

/** JSON with sorted keys: key order carries no meaning in v3 (reference §3.1), so a re-entry may reorder them. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonical).join(',')}]`;
    }

    if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
        return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonical(item)}`).join(',')}}`;
    }

    return JSON.stringify(value);
}

function checkMerchant(context: PayV3RoutesContext, appid: unknown, mchid: unknown): void {
    if (mchid !== context.merchant.mchId) {
        throw new V3Error(400, 'PARAM_ERROR', 'mchid与请求头中的商户号不一致', { field: 'mchid', location: 'body' });
    }

    if (appid !== undefined && appid !== context.options.appId) {
        throw new V3Error(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配，请检查后再试');
    }
}

function prepay(context: PayV3RoutesContext, tradeType: 'JSAPI' | 'NATIVE', body: Json): Json {
    const { clock, v3Trades, trades } = context;
    bytes(body.appid, 'appid', 32);
    checkMerchant(context, body.appid, body.mchid);
    const description = bytes(body.description, 'description', 127)!;
    const outTradeNo = bytes(body.out_trade_no, 'out_trade_no', 32)!;
    if (!outTradeNoPattern.test(outTradeNo)) {
        throw paramError('out_trade_no', '应为6-32位数字、大小写字母或_-*');
    }

    const notifyUrl = bytes(body.notify_url, 'notify_url', 255)!;
    // WeChat calls https only; the simulator also takes http so a merchant on this machine can be called.
    if (!/^https?:\/\/[^/?#\s]+[^?#\s]*$/.test(notifyUrl)) {
        throw paramError('notify_url', '须为http(s)地址且不能携带参数');
    }

    const total = fen(body.amount?.total, 'amount.total');
    if (body.amount.currency !== undefined && body.amount.currency !== 'CNY') {
        throw paramError('amount.currency', '境内商户仅支持CNY');
    }

    const openid = tradeType === 'JSAPI' ? bytes(body.payer?.openid, 'payer.openid', 128) : undefined;
    const attach = bytes(body.attach, 'attach', 128, false);
    const timeExpireText = bytes(body.time_expire, 'time_expire', 64, false);
    const requestedExpiry = timeExpireText === undefined ? undefined : parseRfc3339(timeExpireText);
    if (timeExpireText !== undefined && !requestedExpiry) {
        throw paramError('time_expire', '字符串必须是符合 RFC3339 日期时间格式');
    }

    const fingerprint = canonical({ ...body, time_expire: undefined, tradeType });
    if (trades.find(outTradeNo)) {
        throw new V3Error(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
    }

    let trade = v3Trades.find(outTradeNo);
    if (trade) {
        const refused = refusal(trade);
        if (refused) {
            throw refused;
        }

        // time_expire can only be set by the first order (reference §3.5); any other change is a different order.
        if (trade.fingerprint !== fingerprint) {
            throw new V3Error(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
        }
    }
    else {
        const now = clock.now();
        // Docs: earlier than +1 min is bumped to +1 min, later than +90 days clamped, absent means 7 days. A time
        // already past is refused here: the docs do not say, and an 8-hour-early UTC-as-Beijing time must not pass.
        if (requestedExpiry && requestedExpiry.getTime() <= now) {
            throw new V3Error(400, 'INVALID_REQUEST', 'time_expire时间过短，失效时间必须晚于当前时间');
        }

        const timeExpire = requestedExpiry ? Math.min(Math.max(requestedExpiry.getTime(), now + 60_000), now + 90 * dayMs) : now + 7 * dayMs;
        trade = v3Trades.create({ outTradeNo, appid: body.appid, mchid: body.mchid, tradeType, description, total, notifyUrl, openid, attach, timeExpire, fingerprint });
    }

    const current = v3Trades.currentPrepay(trade);
    return tradeType === 'JSAPI' ? { prepay_id: current.id } : { code_url: current.codeUrl };
}

function checkQueryMchid(context: PayV3RoutesContext, query: Record<string, string>): void {
    if (query.mchid !== context.merchant.mchId) {
        throw new V3Error(400, 'PARAM_ERROR', 'mchid参数错误', { field: 'mchid', location: 'query' });
    }
}

function query(context: PayV3RoutesContext, trade: V3Trade | undefined): Json {
    if (!trade) {
        throw new V3Error(404, 'ORDER_NOT_EXIST', '订单不存在');
    }

    return transactionResource(trade);
}

function close({ clock, v3Trades, settings }: PayV3RoutesContext, outTradeNo: string): { status: number } {
    const trade = v3Trades.find(outTradeNo);
    if (!trade) {
        throw new V3Error(404, 'ORDER_NOT_EXIST', '订单不存在');
    }

    const refused = refusal(trade);
    if (refused) {
        throw refused;
    }

    if (clock.now() - trade.createdAt < settings.closeGuardMinutes * 60_000) {
        throw new V3Error(400, 'INVALID_REQUEST', `订单生成后不能马上调用关单接口，最短调用时间间隔为${settings.closeGuardMinutes}分钟`);
    }

    v3Trades.close(trade);
    return { status: 204 };
}

function refund(context: PayV3RoutesContext, body: Json): Json {
    const { clock, v3Trades, v3Settings } = context;
    const outRefundNo = bytes(body.out_refund_no, 'out_refund_no', 64)!;
    if (!outRefundNoPattern.test(outRefundNo)) {
        throw paramError('out_refund_no', '应为1-64位数字、大小写字母或_-|*@');
    }

    if (body.transaction_id === undefined && body.out_trade_no === undefined) {
        throw paramError('out_trade_no', 'transaction_id和out_trade_no必须二选一');
    }

    const amount = fen(body.amount?.refund, 'amount.refund');
    const total = fen(body.amount?.total, 'amount.total');
    if (body.amount.currency !== undefined && body.amount.currency !== 'CNY') {
        throw paramError('amount.currency', '境内商户仅支持CNY');
    }

    const reason = bytes(body.reason, 'reason', 80, false);
    const notifyUrl = bytes(body.notify_url, 'notify_url', 256, false);
    const trade = body.transaction_id !== undefined ? v3Trades.findByTransactionId(String(body.transaction_id)) : v3Trades.find(String(body.out_trade_no));
    if (!trade) {
        throw new V3Error(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    }

    const fingerprint = JSON.stringify([trade.outTradeNo, amount, total, reason, notifyUrl]);
    const existing = v3Trades.findRefund(outRefundNo);
    if (existing) {
        // The same out_refund_no refunds once (reference §0); with other parameters it is refused.
        if (existing.fingerprint !== fingerprint) {
            throw new V3Error(400, 'INVALID_REQUEST', '退款单号已存在，且请求参数与原退款单不一致');
        }

        return refundResource(existing);
    }

    if (trade.paidAt === undefined) {
        throw new V3Error(400, 'INVALID_REQUEST', '订单未支付，不能发起退款');
    }

    if (total !== trade.total) {
        throw new V3Error(400, 'INVALID_REQUEST', '订单金额与原订单金额不一致');
    }

    if (amount > v3Trades.refundable(trade)) {
        throw new V3Error(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
    }

    if (trade.refunds.length >= maxRefunds) {
        throw new V3Error(403, 'RULE_LIMIT', `一笔订单最多${maxRefunds}次部分退款`);
    }

    if (clock.now() - trade.paidAt > 365 * dayMs) {
        throw new V3Error(400, 'INVALID_REQUEST', '订单已超过退款期限（一年）');
    }

    const last = trade.refunds[trade.refunds.length - 1];
    if (last && clock.now() - last.createdAt < v3Settings.refundIntervalSeconds * 1000) {
        throw new V3Error(429, 'FREQUENCY_LIMITED', `同一笔订单两次退款需间隔${v3Settings.refundIntervalSeconds}秒`);
    }

    const created = v3Trades.addRefund(trade, { outRefundNo, amount, reason, notifyUrl, fingerprint });
    if (v3Settings.autoSettleRefunds) {
        void context.waits.sleep(v3Settings.refundDelaySeconds * context.settings.msPerScheduleSecond).then((elapsed) => {
            if (elapsed && created.status === 'PROCESSING') {
                settleRefund(context, created, 'SUCCESS');
            }
        });
    }

    return refundResource(created);
}

const refundSummaries = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' };

/** A refund reaches SUCCESS, ABNORMAL or CLOSED; its notification follows when there is a URL to send it to. */
export function settleRefund(context: PayV3RoutesContext, refund: V3Refund, status: 'SUCCESS' | 'ABNORMAL' | 'CLOSED'): void {
    context.v3Trades.settleRefund(refund, status);
    const notifyUrl = refund.notifyUrl ?? context.refundNotifyUrl;
    if (notifyUrl) {
        // $lab:coverage:off$
        context.v3Notifier.notify({
            eventType: `REFUND.${status}`,
            summary: refundSummaries[status],
            originalType: 'refund',
            resource: refundNotifyResource(refund),
            notifyUrl,
            key: refund.outRefundNo
        }).catch(() => undefined);
        // $lab:coverage:on$
    }
}

function certificates(context: PayV3RoutesContext): Json {
    if (context.v3Settings.mode === 'publicKey') {
        throw new V3Error(403, 'NOT_ENOUGH', '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥');
    }

    return { data: context.keys.certificateEntries(context.merchant.apiV3Key, context.clock.now()) };
}

export const payV3Routes: Plugin<PayV3RoutesContext> = {
    name: 'wxshop-sandbox-pay-v3',
    register(server, context) {
        server.route([
            v3Route('POST', '/v3/pay/transactions/jsapi', 'jsapi', context, ({ body }) => ({ body: prepay(context, 'JSAPI', body) })),
            v3Route('POST', '/v3/pay/transactions/native', 'native', context, ({ body }) => ({ body: prepay(context, 'NATIVE', body) })),
            v3Route('GET', '/v3/pay/transactions/out-trade-no/{outTradeNo}', 'query', context, ({ params, query: q }) => {
                checkQueryMchid(context, q);
                return { body: query(context, context.v3Trades.find(params.outTradeNo)) };
            }),
            v3Route('GET', '/v3/pay/transactions/id/{transactionId}', 'query', context, ({ params, query: q }) => {
                checkQueryMchid(context, q);
                return { body: query(context, context.v3Trades.findByTransactionId(params.transactionId)) };
            }),
            v3Route('POST', '/v3/pay/transactions/out-trade-no/{outTradeNo}/close', 'close', context, ({ params, body }) => {
                checkMerchant(context, undefined, body.mchid);
                return close(context, params.outTradeNo);
            }),
            v3Route('POST', '/v3/refund/domestic/refunds', 'refund', context, ({ body }) => ({ body: refund(context, body) })),
            v3Route('GET', '/v3/refund/domestic/refunds/{outRefundNo}', 'refundquery', context, ({ params }) => {
                const found = context.v3Trades.findRefund(params.outRefundNo);
                if (!found) {
                    throw new V3Error(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
                }

                return { body: refundResource(found) };
            }),
            v3Route('GET', '/v3/certificates', 'certificates', context, () => ({ body: certificates(context) }))
        ]);
    }
};
