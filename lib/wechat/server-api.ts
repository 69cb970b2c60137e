import axios, { AxiosInstance } from 'axios';

import { AccessTokens, WechatApiError } from './access-token';

/** The token errors after which the token is fetched again once and the call repeated once (reference §1.4). */
const tokenErrors = new Set([40001, 40014, 42001]);

/**
 * The token-bearing APIs of api.weixin.qq.com: POST JSON with `?access_token=` in the query, answers parsed as
 * UTF-8 JSON whatever their content type. Resolves to the answer when errcode is 0 (or absent), else throws
 * WechatApiError.
 */
export class WechatServerApi {
    private readonly http: AxiosInstance;

    constructor(private readonly tokens: AccessTokens, private readonly baseUrl: () => string, timeoutMs: number) {
        this.http = axios.create({ timeout: timeoutMs, responseType: 'text', transformResponse: (data) => data });
    }

    async post<T = Record<string, unknown>>(path: string, body: object): Promise<T> {
        const token = await this.tokens.get();
        try {
            return await this.once<T>(path, body, token);
        }
        catch (err) {
            if (!(err instanceof WechatApiError) || !tokenErrors.has(err.errcode!)) {
                throw err;
            }

            return this.once<T>(path, body, await this.tokens.get(token));
        }
    }

    private async once<T>(path: string, body: object, token: string): Promise<T> {
        let answer: any;
        try {
            const response = await this.http.post(`${this.baseUrl()}${path}`, JSON.stringify(body), {
                params: { access_token: token },
                headers: { 'content-type': 'application/json' }
            });
            answer = JSON.parse(response.data);
        }
        catch (err) {
            // The request URL carries the token: keep only the reason.
            const reason = axios.isAxiosError(err) ? (err.response ? `HTTP ${err.response.status}` : err.code ?? 'no answer') : 'a body that is not JSON';
            throw new WechatApiError(undefined, `${path} failed: ${reason}`);
        }

        if (typeof answer !== 'object' || answer === null) {
            throw new WechatApiError(undefined, `${path} answered JSON that is not an object`);
        }

        if (answer.errcode !== undefined && answer.errcode !== 0) {
            throw new WechatApiError(Number(answer.errcode), `${path} answered errcode ${answer.errcode}: ${answer.errmsg}`);
        }

        return answer as T;
    }
}
