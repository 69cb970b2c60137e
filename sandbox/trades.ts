import type { SignType } from '../lib/wechatpay/sign';

import type { SimClock } from './clock';
import * as Ids from './ids';

/** prepay_id (and a NATIVE code_url) is usable for 2 hours (reference §2.3). */
export const prepayTtlMs = 2 * 3600_000;

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';

export type TradeType = 'JSAPI' | 'NATIVE';

/** The order state machine of reference §4 (refunds come later). */
const transitions: Record<TradeState, TradeState[]> = {
    NOTPAY: ['SUCCESS', 'CLOSED'],
    SUCCESS: ['REFUND'],
    CLOSED: [],
    REFUND: []
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
        const trade = { ...input, state: 'NOTPAY', createdAt: this.clock.now() } as Trade;
        this.issuePrepay(trade);
        this.byOutTradeNo.set(trade.outTradeNo, trade);
        return trade;
    }

    find(outTradeNo: string): Trade | undefined {
        return this.byOutTradeNo.get(outTradeNo);
    }

    findByTransactionId(transactionId: string): Trade | undefined {
        return this.byTransactionId.get(transactionId);
    }

    findPrepay(prepayId: string): Prepay | undefined {
        return this.prepays.get(prepayId);
    }

    findCodeUrl(codeUrl: string): Prepay | undefined {
        return this.codeUrls.get(codeUrl);
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

    /** The first accepted refund turns the trade's state to REFUND (reference §4). */
    refunded(trade: Trade): void {
        if (trade.state === 'SUCCESS') {
            this.move(trade, 'REFUND');
        }
    }

    close(trade: Trade): void {
        this.move(trade, 'CLOSED');
        trade.closedAt = this.clock.now();
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
        trade.prepay = prepay;
        return prepay;
    }
}
