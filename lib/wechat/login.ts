import axios, { AxiosInstance } from 'axios';

import { withRetry } from '../retry';

export type LoginFailure = 'invalid_code' | 'rate_limited' | 'blocked' | 'unavailable' | 'misconfigured';

/** A jscode2session failure, with WeChat's errcode when it sent one. Never carries the secret or the code. */
export class WechatLoginError extends Error {
    constructor(readonly failure: LoginFailure, readonly errcode: number | undefined, message: string) {
        super(message);
        this.name = 'WechatLoginError';
    }
}

export interface WechatSession {
    openid: string;
    unionid?: string;
}

export interface LoginClientOptions {
    appId: string;
    secret: string;
    /** Resolved at call time: in demo mode it is the simulator mounted on this very server. */
    baseUrl: () => string;
    timeoutMs: number;
}

const failures: Record<number, LoginFailure> = {
    40029: 'invalid_code',
    40163: 'invalid_code',
    45011: 'rate_limited',
    40226: 'blocked',
    [-1]: 'unavailable'
};

/** auth.code2Session (reference §1.1). The session_key is dropped here: wxshop does not need it. */
export class LoginClient {
    private readonly http: AxiosInstance;

    constructor(private readonly options: LoginClientOptions) {
        // WeChat sends JSON as text/plain: take the text and parse it ourselves.
        this.http = axios.create({ timeout: options.timeoutMs, responseType: 'text', transformResponse: (data) => data });
    }

    code2Session(code: string): Promise<WechatSession> {
        return withRetry(() => this.callOnce(code), {
            attempts: 2,
            retryable: (err) => err instanceof WechatLoginError && err.failure === 'unavailable'
        });
    }

    private async callOnce(code: string): Promise<WechatSession> {
        let body: any;
        try {
            const response = await this.http.get(`${this.options.baseUrl()}/sns/jscode2session`, {
                params: { appid: this.options.appId, secret: this.options.secret, js_code: code, grant_type: 'authorization_code' }
            });
            body = JSON.parse(response.data);
        }
        catch (err) {
            // The axios error holds the request URL, secret included: keep only what is safe to log.
            const reason = axios.isAxiosError(err) ? (err.code ?? `HTTP ${err.response?.status}`) : 'a body that is not JSON';
            throw new WechatLoginError('unavailable', undefined, `jscode2session failed: ${reason}`);
        }

        // JSON, but not an object (`null` from a misbehaving proxy would otherwise crash below as a 500).
        if (typeof body !== 'object' || body === null) {
            throw new WechatLoginError('unavailable', undefined, 'jscode2session answered JSON that is not an object');
        }

        if (body.errcode !== undefined && body.errcode !== 0) {
            const failure = failures[body.errcode] ?? 'misconfigured';
            throw new WechatLoginError(failure, body.errcode, `jscode2session answered errcode ${body.errcode}: ${body.errmsg}`);
        }

        if (typeof body.openid !== 'string' || !body.openid) {
            throw new WechatLoginError('unavailable', undefined, 'jscode2session answered without an openid');
        }

        return { openid: body.openid, unionid: typeof body.unionid === 'string' ? body.unionid : undefined };
    }
}
