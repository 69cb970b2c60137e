import * as Crypto from 'crypto';
import type { TLSSocket } from 'tls';

import type { Lifecycle, Plugin } from '@hapi/hapi';

import { encryptReqInfo } from '../lib/wechatpay/req-info';
import type { Params } from '../lib/wechatpay/sign';
import { formatBeijingDashed } from '../lib/wechatpay/time';
import { toXml } from '../lib/wechatpay/xml';

import type { SimClock } from './clock';
import * as Ids from './ids';
import type { Notifier, NotifyFault } from './notifier';
import type { SandboxSettings } from './options';
import type { Trade, Trades } from './trades';
import { BusinessError, EnvelopeContext, Fields, v2Route } from './v2-envelope';

/**
 * `/secapi/pay/refund` and `/pay/refundquery` (reference §2.8, §2.9, §4), and the refund notification with its
 * encrypted `req_info` (§2.10) on WeChat's retry schedule.
 */

export type SimRefundStatus = 'PROCESSING' | 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';
/** How the next accepted refund ends; HOLD stays PROCESSING until `POST /__sim/refunds/complete`. */
export type RefundOutcome = Exclude<SimRefundStatus, 'PROCESSING'> | 'HOLD';
export type RefundNotifyFault = NotifyFault | { mode: 'badkey' };

export interface SimRefund {
    outRefundNo: string;
    refundId: string;
    trade: Trade;
    refundFee: number;
    reason?: string;
    notifyUrl: string;
    /** What a re-entry with this out_refund_no must repeat. */
    fingerprint: string;
    status: SimRefundStatus;
    createdAt: number;
    successAt?: number;
}

export interface RefundsContext extends EnvelopeContext {
    clock: SimClock;
    trades: Trades;
    settings: SandboxSettings;
    notifier: Notifier;
}

const maxRefundsPerTrade = 50;
const refundWindowMs = 365 * 86_400_000;
const pageSize = 10;
const outRefundNoPattern = /^[0-9A-Za-z_\-|*@]{1,64}$/;

interface Armed<T> {
    value: T;
    outTradeNo?: string;
}

function takeArmed<T>(queue: Array<Armed<T>>, trade: Trade): T | undefined {
    const index = queue.findIndex((armed) => armed.outTradeNo === undefined || armed.outTradeNo === trade.outTradeNo);
    return index < 0 ? undefined : queue.splice(index, 1)[0].value;
}

/** The simulator's refunds, by out_refund_no and refund_id, and per trade in the order they were made. */
export class RefundBook {
    readonly byOutRefundNo = new Map<string, SimRefund>();
    readonly byRefundId = new Map<string, SimRefund>();
    readonly byTrade = new Map<string, SimRefund[]>();
    private readonly outcomes: Array<Armed<RefundOutcome>> = [];
    private readonly notifyFaults: Array<Armed<RefundNotifyFault>> = [];

    /** `outTradeNo` aims it at the refunds of one trade; without it, at the next refund of any. */
    armOutcome(outcome: RefundOutcome, times: number, outTradeNo?: string): void {
        this.outcomes.push(...Array.from({ length: times }, () => ({ value: outcome, outTradeNo })));
    }

    armNotifyFault(fault: RefundNotifyFault, times: number, outTradeNo?: string): void {
        this.notifyFaults.push(...Array.from({ length: times }, () => ({ value: fault, outTradeNo })));
    }

    nextOutcome(trade: Trade): RefundOutcome {
        return takeArmed(this.outcomes, trade) ?? 'SUCCESS';
    }

    nextNotifyFault(trade: Trade): RefundNotifyFault | undefined {
        return takeArmed(this.notifyFaults, trade);
    }

    ofTrade(trade: Trade): SimRefund[] {
        return this.byTrade.get(trade.outTradeNo) ?? [];
    }

    add(refund: SimRefund): void {
        this.byOutRefundNo.set(refund.outRefundNo, refund);
        this.byRefundId.set(refund.refundId, refund);
        this.byTrade.set(refund.trade.outTradeNo, [...this.ofTrade(refund.trade), refund]);
    }
}

/** The fields of the refund notification's `req_info`, as §2.10 lists them. */
function reqInfoFields(refund: SimRefund): Params {
    return {
        out_refund_no: refund.outRefundNo,
        out_trade_no: refund.trade.outTradeNo,
        refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
        refund_fee: refund.refundFee,
        refund_id: refund.refundId,
        refund_recv_accout: '支付用户零钱',
        refund_request_source: 'API',
        refund_status: refund.status,
        settlement_refund_fee: refund.refundFee,
        settlement_total_fee: refund.trade.totalFee,
        success_time: refund.successAt ? formatBeijingDashed(new Date(refund.successAt)) : undefined,
        total_fee: refund.trade.totalFee,
        transaction_id: refund.trade.transactionId
    };
}

/** The outer XML has no sign: only the key that decrypts req_info vouches for it (reference §2.10). */
export function refundNotification(refund: SimRefund, options: { appId: string; mchId: string; apiKey: string }, badKey = false): string {
    const plaintext = toXml(reqInfoFields(refund), 'root');
    return toXml({
        return_code: 'SUCCESS',
        appid: options.appId,
        mch_id: options.mchId,
        nonce_str: Ids.nonce(),
        req_info: encryptReqInfo(plaintext, badKey ? Crypto.randomBytes(16).toString('hex') : options.apiKey)
    });
}

/** Ends a refund (SUCCESS, CHANGE or REFUNDCLOSE) and sends its notification. */
export function finishRefund(context: RefundsContext, book: RefundBook, refund: SimRefund, status: Exclude<SimRefundStatus, 'PROCESSING'>): void {
    refund.status = status;
    refund.successAt = status === 'SUCCESS' ? context.clock.now() : undefined;
    const fault = book.nextNotifyFault(refund.trade);
    const target = { notifyUrl: refund.notifyUrl, outTradeNo: refund.trade.outTradeNo, transactionId: refund.trade.transactionId, outRefundNo: refund.outRefundNo };
    // Delivery catches its own errors; this only keeps a bug from becoming an unhandled rejection.
    // $lab:coverage:off$
    context.notifier.send(target, fault?.mode === 'badkey' ? undefined : fault, () => refundNotification(refund, context.options, fault?.mode === 'badkey'))
        .catch(() => undefined);
    // $lab:coverage:on$
}

function refundFingerprint(trade: Trade, fields: Fields): string {
    return JSON.stringify([trade.outTradeNo, fields.total_fee, fields.refund_fee]);
}

function refund(context: RefundsContext, book: RefundBook, fields: Fields): Params {
    for (const name of ['out_refund_no', 'total_fee', 'refund_fee']) {
        if (!fields[name]) {
            throw new BusinessError('PARAM_ERROR', `缺少参数${name}`);
        }
    }

    if (!fields.transaction_id && !fields.out_trade_no) {
        throw new BusinessError('PARAM_ERROR', 'transaction_id和out_trade_no必填其一');
    }

    if (!outRefundNoPattern.test(fields.out_refund_no)) {
        throw new BusinessError('PARAM_ERROR', 'out_refund_no参数格式错误');
    }

    for (const name of ['total_fee', 'refund_fee']) {
        if (!/^[1-9]\d{0,11}$/.test(fields[name])) {
            throw new BusinessError('PARAM_ERROR', `${name}参数格式错误，应为以分为单位的正整数`);
        }
    }

    if (fields.refund_fee_type && fields.refund_fee_type !== 'CNY') {
        throw new BusinessError('PARAM_ERROR', 'refund_fee_type参数错误');
    }

    // transaction_id wins when both are given (reference §2.8).
    const trade = fields.transaction_id ? context.trades.findByTransactionId(fields.transaction_id) : context.trades.find(fields.out_trade_no);
    if (!trade || (trade.state !== 'SUCCESS' && trade.state !== 'REFUND')) {
        throw new BusinessError(fields.transaction_id && !trade ? 'INVALID_TRANSACTIONID' : 'ORDERNOTEXIST', '订单不存在或未支付');
    }

    const existing = book.byOutRefundNo.get(fields.out_refund_no);
    if (existing) {
        // The same content again is how a refund is retried: it answers the refund already made, never a second one.
        if (existing.fingerprint !== refundFingerprint(trade, fields)) {
            throw new BusinessError('INVALID_REQUEST', '订单金额或退款金额与之前请求不一致，请核实后再试');
        }

        return acceptance(existing);
    }

    const totalFee = Number(fields.total_fee);
    const refundFee = Number(fields.refund_fee);
    if (totalFee !== trade.totalFee) {
        // WeChat's exact wording for a total_fee that is not the order's is not documented; refused as a parameter error.
        throw new BusinessError('PARAM_ERROR', '订单金额total_fee与实际支付金额不符');
    }

    const now = context.clock.now();
    if (now - trade.paidAt! > refundWindowMs) {
        throw new BusinessError('TRADE_OVERDUE', '订单已经超过退款期限');
    }

    const earlier = book.ofTrade(trade);
    if (earlier.length >= maxRefundsPerTrade) {
        throw new BusinessError('ERROR', `一笔订单最多退款${maxRefundsPerTrade}次`);
    }

    // A closed refund gave its money back to the refundable amount; every other one holds it, an abnormal (CHANGE) one
    // too: whether WeChat frees that for a new API refund is not documented, so the stricter reading.
    const held = earlier.filter((other) => other.status !== 'REFUNDCLOSE').reduce((sum, other) => sum + other.refundFee, 0);
    if (held + refundFee > trade.totalFee) {
        throw new BusinessError('ERROR', '申请退款金额超过订单可退金额');
    }

    const last = earlier[earlier.length - 1];
    if (last && now - last.createdAt < context.settings.refundSpacingSeconds * 1000) {
        // "同一笔订单多次退款的请求需相隔1分钟" (reference §2.8); the err_code for it is our best reading of the error table.
        throw new BusinessError('FREQUENCY_LIMITED', '同一笔订单多次退款的请求需相隔1分钟');
    }

    const made: SimRefund = {
        outRefundNo: fields.out_refund_no,
        refundId: Ids.refundId(now),
        trade,
        refundFee,
        reason: fields.refund_desc || undefined,
        notifyUrl: fields.notify_url || trade.notifyUrl,
        fingerprint: refundFingerprint(trade, fields),
        status: 'PROCESSING',
        createdAt: now
    };
    book.add(made);
    context.trades.refund(trade);
    const outcome = book.nextOutcome(trade);
    if (outcome !== 'HOLD') {
        void context.waits.sleep(context.settings.refundProcessingMs).then((elapsed) => elapsed && finishRefund(context, book, made, outcome));
    }

    return acceptance(made);
}

function acceptance(made: SimRefund): Params {
    return {
        transaction_id: made.trade.transactionId,
        out_trade_no: made.trade.outTradeNo,
        out_refund_no: made.outRefundNo,
        refund_id: made.refundId,
        refund_fee: made.refundFee,
        settlement_refund_fee: made.refundFee,
        total_fee: made.trade.totalFee,
        settlement_total_fee: made.trade.totalFee,
        fee_type: made.trade.feeType,
        cash_fee: made.trade.totalFee,
        cash_fee_type: 'CNY',
        cash_refund_fee: made.refundFee
    };
}

function refundQuery(context: RefundsContext, book: RefundBook, fields: Fields): Params {
    let refunds: SimRefund[];
    // refund_id > out_refund_no > transaction_id > out_trade_no (reference §2.9).
    if (fields.refund_id || fields.out_refund_no) {
        const found = fields.refund_id ? book.byRefundId.get(fields.refund_id) : book.byOutRefundNo.get(fields.out_refund_no);
        refunds = found ? [found] : [];
    }
    else if (fields.transaction_id || fields.out_trade_no) {
        const trade = fields.transaction_id ? context.trades.findByTransactionId(fields.transaction_id) : context.trades.find(fields.out_trade_no);
        refunds = trade ? book.ofTrade(trade) : [];
    }
    else {
        throw new BusinessError('PARAM_ERROR', 'refund_id、out_refund_no、transaction_id、out_trade_no不能同时为空');
    }

    if (!refunds.length) {
        throw new BusinessError('REFUNDNOTEXIST', '退款单不存在');
    }

    const offset = fields.offset ? Number(fields.offset) : 0;
    if (!Number.isInteger(offset) || offset < 0 || (offset > 0 && offset >= refunds.length)) {
        throw new BusinessError('PARAM_ERROR', 'offset参数错误');
    }

    const page = refunds.slice(offset, offset + pageSize);
    const trade = refunds[0].trade;
    const answer: Params = {
        total_refund_count: refunds.length,
        transaction_id: trade.transactionId,
        out_trade_no: trade.outTradeNo,
        total_fee: trade.totalFee,
        settlement_total_fee: trade.totalFee,
        fee_type: trade.feeType,
        cash_fee: trade.totalFee,
        refund_count: page.length
    };
    page.forEach((made, n) => {
        Object.assign(answer, {
            [`out_refund_no_${n}`]: made.outRefundNo,
            [`refund_id_${n}`]: made.refundId,
            [`refund_channel_${n}`]: 'ORIGINAL',
            [`refund_fee_${n}`]: made.refundFee,
            [`settlement_refund_fee_${n}`]: made.refundFee,
            [`refund_status_${n}`]: made.status,
            [`refund_account_${n}`]: 'REFUND_SOURCE_UNSETTLED_FUNDS',
            [`refund_recv_accout_${n}`]: '支付用户零钱',
            [`refund_success_time_${n}`]: made.successAt ? formatBeijingDashed(new Date(made.successAt)) : undefined
        });
    });
    return answer;
}

/**
 * Over HTTPS (the standalone simulator) /secapi/ wants the merchant's client certificate: none at all ends the
 * connection as a failed handshake would; one not issued by the simulator's CA for this mch_id is WeChat's
 * "certificate not match" (reference §2.1). Mounted in-process over plain HTTP there is no certificate to check.
 */
function requireMerchantCertificate(mchId: string, handler: Lifecycle.Method): Lifecycle.Method {
    return (request, h, err) => {
        const socket = request.raw.req.socket as TLSSocket;
        if (socket.encrypted) {
            const peer = socket.getPeerCertificate();
            if (!peer || !peer.subject) {
                socket.destroy();
                return h.abandon;
            }

            if (!socket.authorized || peer.subject.CN !== mchId) {
                return h.response(toXml({ return_code: 'FAIL', return_msg: 'certificate not match' })).type('text/xml');
            }
        }

        return handler.call(null, request, h, err);
    };
}

/** The two WeChat endpoints; their test hooks are in refund-hooks.ts. */
export const refundRoutes: Plugin<RefundsContext & { book: RefundBook }> = {
    name: 'wxshop-sandbox-refunds',
    register(server, { book, ...context }) {
        const secapi = v2Route('/secapi/pay/refund', 'refund', context, ({ fields }) => refund(context, book, fields));
        secapi.handler = requireMerchantCertificate(context.options.mchId, secapi.handler as Lifecycle.Method);
        server.route([secapi, v2Route('/pay/refundquery', 'refundquery', context, ({ fields }) => refundQuery(context, book, fields))]);
    }
};
