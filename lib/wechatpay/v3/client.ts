import * as Crypto from 'crypto';

import axios, { AxiosInstance } from 'axios';

import { withRetry } from '../../retry';
import type { QueryResult } from '../client';
import { CertificateEntry, decryptCertificates, PlatformCertificate, PlatformCertificates } from './certificates';
import { errorFromAnswer, PayV3Error } from './errors';
import { Json, queryResultV3, RefundResult, refundResultV3 } from './resources';
import { authorizationHeader, payMessage, requestMessage, rsaSign } from './signature';
import { formatRfc3339Beijing } from './time';
import { header, V3Verifier, VerificationError } from './verifier';

export interface PayV3ClientOptions {
    appId: string;
    mchId: string;
    /** The merchant API certificate's serial (uppercase hex) and its private key. */
    mchSerial: string;
    privateKey: Crypto.KeyObject;
    apiV3Key: string;
    /** Public-key mode (or the switch-over): `PUB_KEY_ID_…` and the WeChat Pay public key. */
    publicKey?: { id: string; key: Crypto.KeyObject };
    /** Platform-certificate mode (or the switch-over): download /v3/certificates and keep them fresh. */
    platformCerts: boolean;
    baseUrl: () => string;
    timeoutMs: number;
    /** Tries per call for transient failures (SYSTEM_ERROR, 5xx, timeouts, unverifiable answers). */
    attempts?: number;
    /** Scheduled certificate refresh (default 12 h) and the least time between refreshes for unknown serials (60 s). */
    certificateRefreshMs?: number;
    unknownSerialCooldownMs?: number;
    now?: () => number;
}

export interface PrepayRequest {
    tradeType: 'JSAPI' | 'NATIVE';
    outTradeNo: string;
    description: string;
    total: number;
    /** Required for JSAPI. */
    openid?: string;
    notifyUrl: string;
    timeExpire: Date;
    clientIp?: string;
    attach?: string;
}

export interface RefundRequest {
    outTradeNo: string;
    outRefundNo: string;
    refund: number;
    total: number;
    reason?: string;
    notifyUrl?: string;
}

export interface RequestPaymentParams {
    appId: string;
    timeStamp: string;
    nonceStr: string;
    package: string;
    signType: 'RSA';
    paySign: string;
}

interface Answer {
    status: number;
    body: string;
    headers: Record<string, unknown>;
}

const userAgent = 'wxshop/0.1 (WeChatPay API v3; node)';

/** WeChat Pay API v3 (reference §3): every request signed, every answer verified before it is believed. */
export class PayV3Client {
    readonly verifier: V3Verifier;
    readonly certificates?: PlatformCertificates;
    private readonly http: AxiosInstance;
    private readonly now: () => number;

    constructor(private readonly options: PayV3ClientOptions) {
        this.now = options.now ?? Date.now;
        this.http = axios.create({
            timeout: options.timeoutMs,
            responseType: 'text',
            transformResponse: (data) => data,
            validateStatus: () => true,
            maxRedirects: 0,
            proxy: false
        });
        if (options.platformCerts) {
            this.certificates = new PlatformCertificates({
                download: () => this.downloadCertificates(),
                refreshMs: options.certificateRefreshMs ?? 12 * 3600_000,
                unknownSerialCooldownMs: options.unknownSerialCooldownMs ?? 60_000,
                now: this.now
            });
        }

        this.verifier = new V3Verifier({ publicKey: options.publicKey, certificates: this.certificates }, this.now);
    }

    async prepay(request: PrepayRequest): Promise<{ prepayId?: string; codeUrl?: string }> {
        const body: Json = {
            appid: this.options.appId,
            mchid: this.options.mchId,
            description: request.description,
            out_trade_no: request.outTradeNo,
            time_expire: formatRfc3339Beijing(request.timeExpire),
            attach: request.attach,
            notify_url: request.notifyUrl,
            amount: { total: request.total, currency: 'CNY' },
            payer: request.tradeType === 'JSAPI' ? { openid: request.openid } : undefined,
            scene_info: request.clientIp ? { payer_client_ip: request.clientIp } : undefined
        };
        const path = `/v3/pay/transactions/${request.tradeType === 'JSAPI' ? 'jsapi' : 'native'}`;
        const answer = await this.call('POST', path, body);
        const prepayId = typeof answer.prepay_id === 'string' ? answer.prepay_id : undefined;
        const codeUrl = typeof answer.code_url === 'string' ? answer.code_url : undefined;
        if (request.tradeType === 'JSAPI' ? !prepayId : !codeUrl) {
            throw new PayV3Error(true, undefined, `${path} answered 200 without a ${request.tradeType === 'JSAPI' ? 'prepay_id' : 'code_url'}`);
        }

        return { prepayId, codeUrl };
    }

    async query(outTradeNo: string): Promise<QueryResult> {
        try {
            return queryResultV3(await this.call('GET', `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}?mchid=${this.options.mchId}`));
        }
        catch (err) {
            if (err instanceof PayV3Error && err.errCode === 'ORDERNOTEXIST') {
                return { state: 'ORDERNOTEXIST' };
            }

            throw err;
        }
    }

    /** Resolves when the order is closed at WeChat (or already was); ORDERPAID and others reject. */
    async close(outTradeNo: string): Promise<void> {
        try {
            await this.call('POST', `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`, { mchid: this.options.mchId });
        }
        catch (err) {
            if (err instanceof PayV3Error && err.errCode === 'ORDERCLOSED') {
                return;
            }

            throw err;
        }
    }

    async refund(request: RefundRequest): Promise<RefundResult> {
        return refundResultV3(await this.call('POST', '/v3/refund/domestic/refunds', {
            out_trade_no: request.outTradeNo,
            out_refund_no: request.outRefundNo,
            reason: request.reason,
            notify_url: request.notifyUrl,
            amount: { refund: request.refund, total: request.total, currency: 'CNY' }
        }));
    }

    async queryRefund(outRefundNo: string): Promise<RefundResult> {
        return refundResultV3(await this.call('GET', `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`));
    }

    /** wx.requestPayment's parameters for v3 (reference §3.6). */
    requestPayment(prepayId: string): RequestPaymentParams {
        const timeStamp = String(Math.floor(this.now() / 1000));
        const nonceStr = Crypto.randomBytes(16).toString('hex');
        const pkg = `prepay_id=${prepayId}`;
        const paySign = rsaSign(payMessage(this.options.appId, timeStamp, nonceStr, pkg), this.options.privateKey);
        return { appId: this.options.appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
    }

    /**
     * `GET /v3/certificates`: the answer is verified with the certificates it carries (their AEAD tag already
     * authenticates them) or any key we trust.
     */
    async downloadCertificates(): Promise<PlatformCertificate[]> {
        let certificates: PlatformCertificate[] = [];
        await this.call('GET', '/v3/certificates', undefined, (body) => {
            const data = (JSON.parse(body) as { data?: CertificateEntry[] }).data;
            if (!Array.isArray(data)) {
                throw new VerificationError('/v3/certificates answered without data');
            }

            certificates = decryptCertificates(data, this.options.apiV3Key, this.now());
            return new Map(certificates.map((certificate) => [certificate.serial, certificate.key]));
        });
        return certificates;
    }

    private call(method: 'GET' | 'POST', path: string, body?: Json, trusted?: (body: string) => Map<string, Crypto.KeyObject>): Promise<Json> {
        return withRetry(() => this.callOnce(method, path, body, trusted), {
            attempts: this.options.attempts ?? 3,
            delayMs: 200,
            retryable: (err) => err instanceof PayV3Error && err.transient
        });
    }

    private async callOnce(method: 'GET' | 'POST', path: string, body: Json | undefined, trusted?: (body: string) => Map<string, Crypto.KeyObject>): Promise<Json> {
        const answer = await this.send(method, path, body);
        let json: Json = {};
        try {
            json = answer.body ? JSON.parse(answer.body) as Json : {};
        }
        catch {
            if (answer.status >= 200 && answer.status < 300) {
                throw new PayV3Error(true, undefined, `${path} answered HTTP ${answer.status} with a body that is not JSON`, answer.status);
            }
        }

        const signed = header(answer.headers, 'Wechatpay-Signature') !== undefined;
        if (answer.status >= 200 && answer.status < 300 || signed) {
            try {
                await this.verifier.verify(answer.headers, answer.body, trusted && (answer.status < 300 ? trusted(answer.body) : new Map()));
            }
            catch (err) {
                throw new PayV3Error(true, undefined, `${path} answered with a signature that does not verify: ${(err as Error).message}`, answer.status);
            }
        }

        if (answer.status >= 200 && answer.status < 300) {
            return json;
        }

        const code = typeof json.code === 'string' ? json.code : undefined;
        const message = typeof json.message === 'string' ? json.message : undefined;
        if (!signed) {
            // An unsigned refusal could be anyone's: not a reason to believe an order paid or closed, so only retry.
            throw new PayV3Error(true, undefined, `${path} answered an unsigned HTTP ${answer.status} ${code ?? ''}`, answer.status, code);
        }

        throw errorFromAnswer(path, answer.status, code, message);
    }

    private async send(method: 'GET' | 'POST', path: string, body: Json | undefined): Promise<Answer> {
        const url = new URL(`${this.options.baseUrl()}${path}`);
        const text = body === undefined ? '' : JSON.stringify(body);
        const timestamp = String(Math.floor(this.now() / 1000));
        const nonce = Crypto.randomBytes(16).toString('hex').toUpperCase();
        const signature = rsaSign(requestMessage(method, `${url.pathname}${url.search}`, timestamp, nonce, text), this.options.privateKey);
        const headers: Record<string, string> = {
            Accept: 'application/json',
            'User-Agent': userAgent,
            Authorization: authorizationHeader({ mchid: this.options.mchId, nonce_str: nonce, timestamp, serial_no: this.options.mchSerial, signature })
        };
        if (body !== undefined) {
            headers['Content-Type'] = 'application/json';
        }

        // In public-key mode (and during the switch-over) this asks WeChat to sign its answer with the public key.
        if (this.options.publicKey) {
            headers['Wechatpay-Serial'] = this.options.publicKey.id;
        }

        try {
            const response = await this.http.request<string>({ method, url: url.toString(), data: body === undefined ? undefined : text, headers });
            return { status: response.status, body: response.data ?? '', headers: response.headers as Record<string, unknown> };
        }
        catch (err) {
            throw new PayV3Error(true, undefined, `${path} failed: ${axios.isAxiosError(err) ? err.code ?? err.message : String(err)}`);
        }
    }
}
