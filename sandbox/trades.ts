import type { SignType } from '../lib/wechatpay/sign';

import type { SimClock } from './clock';
import { setBounded } from './bounded';
import * as Ids from './ids';

/** prepay_id (and a NATIVE code_url) is usable for 2 hours (reference §2.3). */
export const prepayTtlMs = 2 * 3600_000;

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED';

/** The simulator keeps this many trades; the oldest are forgotten (then ORDERNOTEXIST), so a long demo stays bounded. */
export const maxKeptTrades = 20_000;

export type TradeType = 'JSAPI' | 'NATIVE';

/** The order state machine of reference §4 (a refund's own states come with refunds). */
const transitions: Record<TradeState, TradeState[]> = {
    NOTPAY: ['SUCCESS', 'CLOSED'],
    SUCCESS: ['REFUND'],
    REFUND: [],
    CLOSED: []
};

export interface Prepay {
    id: string;
    issuedAt: number;
    codeUrl?: string;
    trade: Trade;
}

export interface NewTrade {
    outTradeNo: string;
    appid: string;
    mchId: string;
    /** The algorithm of the unifiedorder request (MD5 when it sent no sign_type). */
    signType: SignType;
    /** Whether unifiedorder said sign_type explicitly. */
    signTypeGiven: boolean;
    /** The fields of the first unifiedorder a re-entry must repeat exactly (all but nonce_str, sign, spbill_create_ip). */
    fingerprint: string;
    tradeType: TradeType;
    totalFee: number;
    feeType: string;
    notifyUrl: string;
    openid?: string;
    deviceInfo?: string;
    attach?: string;
    timeExpire?: number;
}

export interface Trade extends NewTrade {
    state: TradeState;
    createdAt: number;
    prepay: Prepay;
    transactionId?: string;
    payer?: string;
    paidAt?: number;
    bankType?: string;
    closedAt?: number;
    /** A lagging close (knob `closeLagMs`): closeorder answered SUCCESS, the trade stays payable until then. */
    closesAt?: number;
    refundedAt?: number;
    /** Every prepay_id (and code_url) issued for it, forgotten with it. */
    prepays: Prepay[];
}

/** Why WeChat refuses to act on a trade that is no longer payable, as err_code and err_code_des. */
export function refusal(trade: Trade): { code: string; des: string } | undefined {
    if (trade.state === 'SUCCESS' || trade.state === 'REFUND') {
        return { code: 'ORDERPAID', des: '该订单已支付' };
    }

    if (trade.state === 'CLOSED') {
        return { code: 'ORDERCLOSED', des: '该订单已关闭' };
    }

    return undefined;
}

/** The simulator's trades for its one merchant, keyed by out_trade_no, transaction_id, prepay_id and code_url. */
export class Trades {
    private readonly byOutTradeNo = new Map<string, Trade>();
    private readonly byTransactionId = new Map<string, Trade>();
    private readonly prepays = new Map<string, Prepay>();
    private readonly codeUrls = new Map<string, Prepay>();

    constructor(private readonly clock: SimClock) {}

    create(input: NewTrade): Trade {
        const trade = { ...input, state: 'NOTPAY', createdAt: this.clock.now(), prepays: [] } as unknown as Trade;
        this.issuePrepay(trade);
        for (const forgotten of setBounded(this.byOutTradeNo, trade.outTradeNo, trade, maxKeptTrades)) {
            this.forget(forgotten);
        }

        return trade;
    }

    find(outTradeNo: string): Trade | undefined {
        return this.settled(this.byOutTradeNo.get(outTradeNo));
    }

    findByTransactionId(transactionId: string): Trade | undefined {
        return this.settled(this.byTransactionId.get(transactionId));
    }

    findPrepay(prepayId: string): Prepay | undefined {
        const prepay = this.prepays.get(prepayId);
        this.settled(prepay?.trade);
        return prepay;
    }

    findCodeUrl(codeUrl: string): Prepay | undefined {
        const prepay = this.codeUrls.get(codeUrl);
        this.settled(prepay?.trade);
        return prepay;
    }

    /** How many trades are kept (bounded by maxKeptTrades). */
    get size(): number {
        return this.byOutTradeNo.size;
    }

    isUsable(prepay: Prepay): boolean {
        return this.clock.now() - prepay.issuedAt < prepayTtlMs;
    }

    /** The trade's prepay_id while it is usable, otherwise a fresh one (how clients renew it after 2 h). */
    currentPrepay(trade: Trade): Prepay {
        return this.isUsable(trade.prepay) ? trade.prepay : this.issuePrepay(trade);
    }

    pay(trade: Trade, payer: string): void {
        this.move(trade, 'SUCCESS');
        trade.payer = payer;
        trade.paidAt = this.clock.now();
        trade.bankType = 'OTHERS';
        trade.transactionId = Ids.transactionId(trade.paidAt);
        this.byTransactionId.set(trade.transactionId, trade);
    }

    /** Closes the trade now, or (a lagging close) only once `lagMs` has passed: until then it can still be paid. */
    close(trade: Trade, lagMs = 0): void {
        if (lagMs > 0) {
            trade.closesAt ??= this.clock.now() + lagMs;
            return;
        }

        this.move(trade, 'CLOSED');
        trade.closedAt = this.clock.now();
    }

    /** A refund of a paid trade was accepted: orderquery answers REFUND from now on (the first refund moves it). */
    refund(trade: Trade): void {
        if (trade.state === 'REFUND') {
            return;
        }

        this.move(trade, 'REFUND');
        trade.refundedAt = this.clock.now();
    }

    /** A lagging close takes effect once its time has come. */
    private settled(trade: Trade | undefined): Trade | undefined {
        if (trade?.state === 'NOTPAY' && trade.closesAt !== undefined && this.clock.now() >= trade.closesAt) {
            this.close(trade);
        }

        return trade;
    }

    private forget(trade: Trade): void {
        for (const prepay of trade.prepays) {
            this.prepays.delete(prepay.id);
            if (prepay.codeUrl) {
                this.codeUrls.delete(prepay.codeUrl);
            }
        }

        if (trade.transactionId) {
            this.byTransactionId.delete(trade.transactionId);
        }
    }

    private move(trade: Trade, to: TradeState): void {
        if (!transitions[trade.state].includes(to)) {
            throw new Error(`trade ${trade.outTradeNo} cannot go from ${trade.state} to ${to}`);
        }

        trade.state = to;
    }

    private issuePrepay(trade: Trade): Prepay {
        const now = this.clock.now();
        const prepay: Prepay = { id: Ids.prepayId(now), issuedAt: now, trade };
        if (trade.tradeType === 'NATIVE') {
            prepay.codeUrl = `weixin://wxpay/bizpayurl?pr=${Ids.codeUrlToken()}`;
            this.codeUrls.set(prepay.codeUrl, prepay);
        }

        this.prepays.set(prepay.id, prepay);
        trade.prepays.push(prepay);
        trade.prepay = prepay;
        return prepay;
    }
}
