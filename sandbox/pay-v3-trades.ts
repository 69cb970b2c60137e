import * as Crypto from 'crypto';

import type { SimClock } from './clock';
import * as Ids from './ids';
import { prepayTtlMs } from './trades';

/**
 * The simulator's API v3 trades and refunds (reference §3.5–§3.10, §4). Kept beside the v2 store (sandbox/trades.ts,
 * which is being made stricter in parallel): an out_trade_no lives in one of them, by the API that created it.
 */

export type V3TradeState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED';

export type V3RefundStatus = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';

const tradeTransitions: Record<V3TradeState, V3TradeState[]> = {
    NOTPAY: ['SUCCESS', 'CLOSED'],
    SUCCESS: ['REFUND'],
    REFUND: [],
    CLOSED: []
};

const refundTransitions: Record<V3RefundStatus, V3RefundStatus[]> = {
    PROCESSING: ['SUCCESS', 'ABNORMAL', 'CLOSED'],
    ABNORMAL: ['SUCCESS', 'CLOSED'],
    SUCCESS: [],
    CLOSED: []
};

export interface NewV3Trade {
    outTradeNo: string;
    appid: string;
    mchid: string;
    tradeType: 'JSAPI' | 'NATIVE';
    description: string;
    total: number;
    notifyUrl: string;
    openid?: string;
    attach?: string;
    timeExpire: number;
    /** The request body a re-entry must repeat (all of it). */
    fingerprint: string;
}

export interface V3Prepay {
    id: string;
    issuedAt: number;
    codeUrl?: string;
    trade: V3Trade;
}

export interface V3Refund {
    outRefundNo: string;
    refundId: string;
    trade: V3Trade;
    amount: number;
    reason?: string;
    notifyUrl?: string;
    status: V3RefundStatus;
    createdAt: number;
    successAt?: number;
    fingerprint: string;
}

export interface V3Trade extends NewV3Trade {
    state: V3TradeState;
    createdAt: number;
    prepay: V3Prepay;
    transactionId?: string;
    payer?: string;
    paidAt?: number;
    refunds: V3Refund[];
}

/** 29 digits starting with 50, like '50000408942018111907145868882' (reference §0). */
function refundId(): string {
    return `50${Crypto.randomInt(1e9).toString().padStart(9, '0')}${Crypto.randomInt(1e9).toString().padStart(9, '0')}${Crypto.randomInt(1e9).toString().padStart(9, '0')}`;
}

export class V3Trades {
    private readonly byOutTradeNo = new Map<string, V3Trade>();
    private readonly byTransactionId = new Map<string, V3Trade>();
    private readonly prepays = new Map<string, V3Prepay>();
    private readonly codeUrls = new Map<string, V3Prepay>();
    private readonly refunds = new Map<string, V3Refund>();

    constructor(private readonly clock: SimClock) {}

    create(input: NewV3Trade): V3Trade {
        const trade: V3Trade = { ...input, state: 'NOTPAY', createdAt: this.clock.now(), refunds: [] } as unknown as V3Trade;
        this.issuePrepay(trade);
        this.byOutTradeNo.set(trade.outTradeNo, trade);
        return trade;
    }

    find(outTradeNo: string): V3Trade | undefined {
        return this.byOutTradeNo.get(outTradeNo);
    }

    findByTransactionId(transactionId: string): V3Trade | undefined {
        return this.byTransactionId.get(transactionId);
    }

    findPrepay(prepayId: string): V3Prepay | undefined {
        return this.prepays.get(prepayId);
    }

    findCodeUrl(codeUrl: string): V3Prepay | undefined {
        return this.codeUrls.get(codeUrl);
    }

    findRefund(outRefundNo: string): V3Refund | undefined {
        return this.refunds.get(outRefundNo);
    }

    isUsable(prepay: V3Prepay): boolean {
        return this.clock.now() - prepay.issuedAt < prepayTtlMs;
    }

    /** The trade's prepay while usable, otherwise a fresh one (a re-entry after 2 h renews it). */
    currentPrepay(trade: V3Trade): V3Prepay {
        return this.isUsable(trade.prepay) ? trade.prepay : this.issuePrepay(trade);
    }

    pay(trade: V3Trade, payer: string): void {
        this.move(trade, 'SUCCESS');
        trade.payer = payer;
        trade.paidAt = this.clock.now();
        trade.transactionId = Ids.transactionId(trade.paidAt);
        this.byTransactionId.set(trade.transactionId, trade);
    }

    close(trade: V3Trade): void {
        this.move(trade, 'CLOSED');
    }

    /** Fen not yet refunded or being refunded (closed refunds give theirs back). */
    refundable(trade: V3Trade): number {
        return trade.total - trade.refunds.filter((refund) => refund.status !== 'CLOSED').reduce((sum, refund) => sum + refund.amount, 0);
    }

    addRefund(trade: V3Trade, input: Pick<V3Refund, 'outRefundNo' | 'amount' | 'reason' | 'notifyUrl' | 'fingerprint'>): V3Refund {
        const now = this.clock.now();
        const refund: V3Refund = { ...input, refundId: refundId(), trade, status: 'PROCESSING', createdAt: now };
        if (trade.state === 'SUCCESS') {
            this.move(trade, 'REFUND');
        }

        trade.refunds.push(refund);
        this.refunds.set(refund.outRefundNo, refund);
        return refund;
    }

    settleRefund(refund: V3Refund, to: V3RefundStatus): void {
        if (!refundTransitions[refund.status].includes(to)) {
            throw new Error(`refund ${refund.outRefundNo} cannot go from ${refund.status} to ${to}`);
        }

        refund.status = to;
        if (to === 'SUCCESS') {
            refund.successAt = this.clock.now();
        }
    }

    private move(trade: V3Trade, to: V3TradeState): void {
        if (!tradeTransitions[trade.state].includes(to)) {
            throw new Error(`trade ${trade.outTradeNo} cannot go from ${trade.state} to ${to}`);
        }

        trade.state = to;
    }

    private issuePrepay(trade: V3Trade): V3Prepay {
        const now = this.clock.now();
        const prepay: V3Prepay = { id: Ids.prepayId(now), issuedAt: now, trade };
        if (trade.tradeType === 'NATIVE') {
            prepay.codeUrl = `weixin://wxpay/bizpayurl?pr=${Ids.codeUrlToken()}`;
            this.codeUrls.set(prepay.codeUrl, prepay);
        }

        this.prepays.set(prepay.id, prepay);
        trade.prepay = prepay;
        return prepay;
    }
}
