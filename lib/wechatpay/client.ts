import * as Crypto from 'crypto';
import type * as Https from 'https';

import axios, { AxiosInstance } from 'axios';

import { withRetry } from '../retry';
import { Params, signV2, SignType, verifyV2 } from './sign';
import { parseFlatXml, toXml } from './xml';

export interface PayClientOptions {
    appId: string;
    mchId: string;
    apiKey: string;
    signType: SignType;
    /** Resolved at call time: in demo mode it is the simulator mounted on this very server. */
    baseUrl: () => string;
    timeoutMs: number;
    /** Tries per call for transient failures (SYSTEMERROR, 5xx, timeouts, unverifiable answers). */
    attempts?: number;
    /** For https base URLs: the merchant API certificate (mutual TLS, needed by /secapi/) and any extra CA. */
    httpsAgent?: Https.Agent;
}

/**
 * A call that did not give an answer to act on. `transient` failures (network, timeout, 5xx, SYSTEMERROR, a
 * response that fails verification) may succeed if tried again; the others carry WeChat's err_code.
 */
export class PayError extends Error {
    constructor(readonly transient: boolean, readonly errCode: string | undefined, message: string) {
        super(message);
        this.name = 'PayError';
    }
}

export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR' | 'ACCEPT';

export interface UnifiedOrderRequest {
    outTradeNo: string;
    totalFee: number;
    body: string;
    tradeType: 'JSAPI' | 'NATIVE';
    openid?: string;
    productId?: string;
    clientIp: string;
    notifyUrl: string;
    timeExpire: string;
}

export interface UnifiedOrderResult {
    prepayId: string;
    codeUrl?: string;
}

/** The fields of a payment WeChat vouches for, from a notification or an orderquery. */
export interface PaidTrade {
    appId: string;
    mchId: string;
    outTradeNo: string;
    transactionId: string;
    totalFee: number;
    openid: string | undefined;
    timeEnd: string;
    raw: Record<string, string>;
}

export type QueryResult = { state: 'SUCCESS' | 'REFUND'; trade: PaidTrade } | { state: Exclude<TradeState, 'SUCCESS' | 'REFUND'> } | { state: 'ORDERNOTEXIST' };

const retryableCodes = new Set(['SYSTEMERROR', 'BIZERR_NEED_RETRY']);

/** WeChat Pay API v2 (reference §2): every request signed, every answer verified before it is believed. */
export class PayV2Client {
    private readonly http: AxiosInstance;

    constructor(private readonly options: PayClientOptions) {
        this.http = axios.create({
            timeout: options.timeoutMs,
            responseType: 'text',
            transformResponse: (data) => data,
            headers: { 'Content-Type': 'text/xml; charset=utf-8' },
            validateStatus: () => true,
            httpsAgent: options.httpsAgent
        });
    }

    /** A request's `sign` over the given fields, with this merchant's key and sign type. */
    sign(params: Params): string {
        return signV2(params, this.options.apiKey, this.options.signType);
    }

    get signType(): SignType {
        return this.options.signType;
    }

    async unifiedOrder(request: UnifiedOrderRequest): Promise<UnifiedOrderResult> {
        const answer = await this.call('/pay/unifiedorder', {
            body: request.body,
            out_trade_no: request.outTradeNo,
            total_fee: request.totalFee,
            spbill_create_ip: request.clientIp,
            time_expire: request.timeExpire,
            notify_url: request.notifyUrl,
            trade_type: request.tradeType,
            openid: request.openid,
            product_id: request.productId
        });
        if (!answer.prepay_id) {
            throw new PayError(true, undefined, 'unifiedorder answered SUCCESS without a prepay_id');
        }

        return { prepayId: answer.prepay_id, codeUrl: answer.code_url };
    }

    async orderQuery(outTradeNo: string): Promise<QueryResult> {
        let answer: Record<string, string>;
        try {
            answer = await this.call('/pay/orderquery', { out_trade_no: outTradeNo });
        }
        catch (err) {
            if (err instanceof PayError && err.errCode === 'ORDERNOTEXIST') {
                return { state: 'ORDERNOTEXIST' };
            }

            throw err;
        }

        const state = answer.trade_state as TradeState;
        if (state === 'SUCCESS' || state === 'REFUND') {
            return { state, trade: paidTrade(answer) };
        }

        return { state };
    }

    /** Resolves when the order is closed at WeChat (or already was); ORDERPAID and others reject with their err_code. */
    async closeOrder(outTradeNo: string): Promise<void> {
        try {
            await this.call('/pay/closeorder', { out_trade_no: outTradeNo });
        }
        catch (err) {
            if (err instanceof PayError && err.errCode === 'ORDERCLOSED') {
                return;
            }

            throw err;
        }
    }

    /** One signed call with the transient failures retried; the answer verified and `result_code=SUCCESS`. */
    call(path: string, fields: Params): Promise<Record<string, string>> {
        return withRetry(() => this.callOnce(path, fields), {
            attempts: this.options.attempts ?? 3,
            delayMs: 200,
            retryable: (err) => err instanceof PayError && err.transient
        });
    }

    private async callOnce(path: string, fields: Params): Promise<Record<string, string>> {
        const params: Params = {
            appid: this.options.appId,
            mch_id: this.options.mchId,
            nonce_str: Crypto.randomBytes(16).toString('hex'),
            sign_type: this.options.signType,
            ...fields
        };
        params.sign = this.sign(params);

        let status: number;
        let text: string;
        try {
            const response = await this.http.post(`${this.options.baseUrl()}${path}`, toXml(params));
            status = response.status;
            text = response.data;
        }
        catch (err) {
            throw new PayError(true, undefined, `${path} failed: ${axios.isAxiosError(err) ? err.code ?? err.message : String(err)}`);
        }

        if (status !== 200) {
            throw new PayError(true, undefined, `${path} answered HTTP ${status}`);
        }

        let answer: Record<string, string>;
        try {
            answer = await parseFlatXml(text);
        }
        catch (err) {
            throw new PayError(true, undefined, `${path} answered something that is not WeChat XML: ${(err as Error).message}`);
        }

        if (answer.return_code !== 'SUCCESS') {
            throw new PayError(false, answer.return_code ?? 'FAIL', `${path} refused the request: ${answer.return_msg ?? 'no return_msg'}`);
        }

        if (!verifyV2(answer, this.options.apiKey)) {
            throw new PayError(true, undefined, `${path} answered with a signature that does not verify`);
        }

        if (answer.appid !== this.options.appId || answer.mch_id !== this.options.mchId) {
            throw new PayError(false, undefined, `${path} answered for another appid or mch_id`);
        }

        if (answer.result_code !== 'SUCCESS') {
            const code = answer.err_code ?? 'FAIL';
            throw new PayError(retryableCodes.has(code), code, `${path} answered ${code}: ${answer.err_code_des ?? ''}`);
        }

        return answer;
    }
}

/** The payment facts of a signed SUCCESS notification or orderquery answer. */
export function paidTrade(fields: Record<string, string>): PaidTrade {
    return {
        appId: fields.appid,
        mchId: fields.mch_id,
        outTradeNo: fields.out_trade_no,
        transactionId: fields.transaction_id,
        totalFee: /^\d+$/.test(fields.total_fee ?? '') ? Number(fields.total_fee) : NaN,
        openid: fields.openid,
        timeEnd: fields.time_end,
        raw: fields
    };
}
