import * as Crypto from 'crypto';

import type { Lifecycle, Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';

import { parseAuthorization, requestMessage, rsaVerify } from '../lib/wechatpay/v3/signature';
import { maxClockOffsetSeconds } from '../lib/wechatpay/v3/verifier';

import type { SimClock } from './clock';
import type { SignatureFault, WechatKeys } from './pay-v3-keys';
import type { V3Settings } from './pay-v3-options';
import type { Waits } from './waits';

/**
 * The API v3 envelope shared by every JSON endpoint (reference §3.1–§3.3, §3.11): Accept and User-Agent required,
 * the merchant's Authorization verified over the bytes received, the answer signed by the key the merchant mode
 * picks (204 included), errors as HTTP status + `{code, message}`, and armed faults played.
 */

export type Json = Record<string, any>;

export class V3Error extends Error {
    constructor(readonly status: number, readonly code: string, message: string, readonly detail?: Json) {
        super(message);
    }
}

export type V3FaultKind = 'errcode' | 'http500' | 'timeout' | SignatureFault;

export interface V3Fault {
    kind: V3FaultKind;
    /** For `errcode`: the HTTP status and code to answer (default 500 SYSTEM_ERROR). */
    status?: number;
    code?: string;
    delayMs?: number;
}

export interface V3Merchant {
    mchId: string;
    serial: string;
    publicKey: Crypto.KeyObject;
    apiV3Key: string;
}

export interface V3EnvelopeContext {
    clock: SimClock;
    waits: Waits;
    keys: WechatKeys;
    merchant: V3Merchant;
    v3Settings: V3Settings;
    takeFault(endpoint: string): V3Fault | undefined;
}

export interface V3Request {
    body: Json;
    params: Record<string, string>;
    query: Record<string, string>;
}

export type V3Handler = (request: V3Request) => { status?: number; body?: Json };

const faultMessages: Record<string, string> = {
    SYSTEM_ERROR: '系统错误',
    FREQUENCY_LIMITED: '频率超限',
    NOT_ENOUGH: '余额不足',
    NO_AUTH: '商户无此接口权限',
    RESOURCE_NOT_EXISTS: '订单不存在'
};

/**
 * Who signs an answer: the public key in public-key mode, the newest platform certificate in certificate mode, and
 * during the switch-over whichever the merchant asked for with `Wechatpay-Serial` (reference §3.4).
 */
export function answerSerial(context: V3EnvelopeContext, requested: string | undefined): string {
    const { mode } = context.v3Settings;
    if (mode === 'publicKey' || mode === 'switch' && requested === context.keys.publicKey.id) {
        return context.keys.publicKey.id;
    }

    return context.keys.newestPlatform.serial;
}

export function v3Route(method: 'GET' | 'POST', path: string, endpoint: string, context: V3EnvelopeContext, handle: V3Handler): ServerRoute {
    const handler: Lifecycle.Method = async (request, h) => {
        const fault = context.takeFault(endpoint);
        if (fault?.kind === 'http500') {
            return h.response('<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>').type('text/html').code(502);
        }

        const raw = Buffer.isBuffer(request.payload) ? request.payload.toString('utf8') : '';
        let status: number;
        let body: Json | undefined;
        try {
            checkRequest(context, request, raw);
            if (fault?.kind === 'errcode') {
                const code = fault.code ?? 'SYSTEM_ERROR';
                throw new V3Error(fault.status ?? 500, code, faultMessages[code] ?? code);
            }

            const parsed = parseBody(method, raw);
            const answer = handle({ body: parsed, params: request.params as Record<string, string>, query: request.query as Record<string, string> });
            status = answer.status ?? 200;
            body = answer.body;
        }
        catch (err) {
            if (!(err instanceof V3Error)) {
                throw err;
            }

            status = err.status;
            body = { code: err.code, message: err.message, ...err.detail && { detail: err.detail } };
        }

        // A timeout still does the work; only the answer is late.
        if (fault?.kind === 'timeout') {
            await context.waits.sleep(fault.delayMs ?? 10_000);
        }

        return signed(context, h, request, status, body, fault);
    };

    return {
        method,
        path,
        options: {
            description: `WeChat Pay API v3 ${method} ${path}`,
            tags: ['sandbox'],
            ...method === 'POST' && { payload: { parse: false, output: 'data' } }
        },
        handler
    };
}

function signed(context: V3EnvelopeContext, h: ResponseToolkit, request: Request, status: number, body: Json | undefined, fault: V3Fault | undefined) {
    const text = body === undefined ? '' : JSON.stringify(body);
    const serial = answerSerial(context, request.headers['wechatpay-serial'] as string | undefined);
    const signatureFault = fault && fault.kind !== 'errcode' && fault.kind !== 'timeout' && fault.kind !== 'http500' ? fault.kind : undefined;
    const response = h.response(text).code(status);
    if (text) {
        response.type('application/json; charset=utf-8');
    }

    response.header('Request-ID', Crypto.randomUUID());
    for (const [name, value] of Object.entries(context.keys.signHeaders(serial, text, context.clock.now(), signatureFault))) {
        response.header(name, value);
    }

    return response;
}

function parseBody(method: string, raw: string): Json {
    if (method === 'GET') {
        return {};
    }

    try {
        const body = JSON.parse(raw);
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
            throw new Error('not an object');
        }

        return body;
    }
    catch {
        throw new V3Error(400, 'PARAM_ERROR', '请求体不是合法的JSON对象', { location: 'body', issue: 'invalid JSON' });
    }
}

/** The merchant's request: headers, Authorization, serial, clock window and RSA signature over what was received. */
function checkRequest({ clock, merchant }: V3EnvelopeContext, request: Request, raw: string): void {
    if (!request.headers.accept || !request.headers['user-agent']) {
        throw new V3Error(400, 'INVALID_REQUEST', 'Http头缺少Accept或User-Agent');
    }

    const auth = parseAuthorization(request.headers.authorization as string | undefined);
    if (!auth) {
        throw new V3Error(401, 'SIGN_ERROR', 'Http头Authorization值格式错误,请参考《微信支付商户REST API签名规则》', { location: 'authorization' });
    }

    if (auth.mchid !== merchant.mchId) {
        throw new V3Error(400, 'MCH_NOT_EXISTS', '商户号不存在');
    }

    if (auth.serial_no !== merchant.serial) {
        throw new V3Error(401, 'SIGN_ERROR', '商户证书序列号有误。请使用签名私钥匹配的证书序列号', { field: 'serial_no', location: 'authorization' });
    }

    // The docs give no window for requests; 300 s, as for answers, is the strict choice.
    if (!/^\d{1,12}$/.test(auth.timestamp) || Math.abs(clock.now() / 1000 - Number(auth.timestamp)) >= maxClockOffsetSeconds) {
        throw new V3Error(401, 'SIGN_ERROR', '请求时间戳已过期，请检查系统时间', { field: 'timestamp', location: 'authorization' });
    }

    const url = `${request.url.pathname}${request.url.search}`;
    const message = requestMessage(request.method, url, auth.timestamp, auth.nonce_str, raw);
    if (!rsaVerify(message, auth.signature, merchant.publicKey)) {
        throw new V3Error(401, 'SIGN_ERROR', '签名错误，请检查后再试', {
            detail: { issue: 'sign not match' },
            field: 'signature',
            location: 'authorization',
            sign_information: { method: request.method.toUpperCase(), sign_message_length: Buffer.byteLength(message), truncated_sign_message: message.slice(0, 100), url }
        });
    }
}
