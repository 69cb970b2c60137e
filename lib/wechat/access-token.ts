import axios, { AxiosInstance } from 'axios';
import { Op, UniqueConstraintError } from 'sequelize';

import { WechatAccessToken } from '../../models';

/**
 * The access token of the mini-program, from `POST /cgi-bin/stable_token` in normal mode only (reference
 * wechat-miniprogram-ops §1.4): never `/cgi-bin/token`, whose every call invalidates the token other instances hold,
 * and never `force_refresh`. Kept in the database, so every instance shares one token; one instance refreshes at a
 * time (a lease row), and a token is kept until `refreshMarginMs` before its expiry.
 */

export interface AccessTokenOptions {
    appId: string;
    secret: string;
    baseUrl: () => string;
    timeoutMs: number;
}

/** A failure of a WeChat server API, with its errcode when WeChat answered one (undefined: no usable answer). */
export class WechatApiError extends Error {
    /** `token`: the access token could not be had (stable_token failed), whatever the API called. */
    constructor(readonly errcode: number | undefined, message: string, readonly token = false) {
        super(message);
        this.name = 'WechatApiError';
    }

    /**
     * Worth another try later: WeChat busy (-1), no answer, a 5xx, or no token (a refused secret is for a person to
     * fix in the config, and the work waits for it rather than failing for good).
     */
    get transient(): boolean {
        return this.token || this.errcode === undefined || this.errcode === -1;
    }
}

/** WeChat rotates a stable token 5 minutes before it expires: refresh a little before that. */
const refreshMarginMs = 6 * 60_000;
const leaseMs = 10_000;
const waitStepMs = 50;

export class AccessTokens {
    private readonly http: AxiosInstance;

    constructor(private readonly options: AccessTokenOptions) {
        this.http = axios.create({ timeout: options.timeoutMs, responseType: 'text', transformResponse: (data) => data });
    }

    /** The shared token, refreshed (by one instance) when it is missing, about to expire, or `stale` names it. */
    async get(stale?: string): Promise<string> {
        const deadline = Date.now() + leaseMs + this.options.timeoutMs;
        for (;;) {
            const row = await this.row();
            const now = new Date();
            if (row.accessToken && row.accessToken !== stale && row.expiresAt && row.expiresAt.getTime() - now.getTime() > refreshMarginMs) {
                return row.accessToken;
            }

            if (await this.takeLease(now, stale)) {
                return this.refresh();
            }

            if (Date.now() > deadline) {
                throw new WechatApiError(undefined, 'stable_token: another instance holds the refresh and no token arrived', true);
            }

            await new Promise((resolve) => setTimeout(resolve, waitStepMs));
        }
    }

    private async row(): Promise<WechatAccessToken> {
        const found = await WechatAccessToken.findByPk(this.options.appId);
        if (found) {
            return found;
        }

        // Two instances may insert at once: the loser's insert fails on the primary key, and it reads the winner's row.
        await WechatAccessToken.create({ appId: this.options.appId, accessToken: null, expiresAt: null, refreshingUntil: null }).catch((err) => {
            if (!(err instanceof UniqueConstraintError)) {
                throw err;
            }
        });
        return (await WechatAccessToken.findByPk(this.options.appId))!;
    }

    /**
     * The refresh lease, taken only while the token is still missing, about to expire or the stale one: an instance
     * that read the row before another one refreshed it finds a fresh token and takes no lease.
     */
    private async takeLease(now: Date, stale?: string): Promise<boolean> {
        const [affected] = await WechatAccessToken.update({ refreshingUntil: new Date(now.getTime() + leaseMs) }, {
            where: {
                appId: this.options.appId,
                [Op.and]: [
                    { [Op.or]: [{ refreshingUntil: null }, { refreshingUntil: { [Op.lt]: now } }] },
                    { [Op.or]: [{ accessToken: null }, { expiresAt: null }, { expiresAt: { [Op.lte]: new Date(now.getTime() + refreshMarginMs) } }, ...stale ? [{ accessToken: stale }] : []] }
                ]
            }
        });
        return affected === 1;
    }

    private async refresh(): Promise<string> {
        try {
            const { accessToken, expiresInSeconds } = await this.fetchStableToken();
            await WechatAccessToken.update({ accessToken, expiresAt: new Date(Date.now() + expiresInSeconds * 1000), refreshingUntil: null },
                { where: { appId: this.options.appId } });
            return accessToken;
        }
        catch (err) {
            await WechatAccessToken.update({ refreshingUntil: null }, { where: { appId: this.options.appId } });
            throw err;
        }
    }

    private async fetchStableToken(): Promise<{ accessToken: string; expiresInSeconds: number }> {
        let body: any;
        try {
            const response = await this.http.post(`${this.options.baseUrl()}/cgi-bin/stable_token`,
                { grant_type: 'client_credential', appid: this.options.appId, secret: this.options.secret },
                { headers: { 'content-type': 'application/json' } });
            body = JSON.parse(response.data);
        }
        catch (err) {
            // Never the axios error itself: its config holds the secret of the body.
            const reason = axios.isAxiosError(err) ? (err.response ? `HTTP ${err.response.status}` : err.code ?? 'no answer') : 'a body that is not JSON';
            throw new WechatApiError(undefined, `stable_token failed: ${reason}`, true);
        }

        if (typeof body?.access_token !== 'string' || !Number.isInteger(body.expires_in)) {
            throw new WechatApiError(typeof body?.errcode === 'number' ? body.errcode : undefined, `stable_token answered errcode ${body?.errcode}: ${body?.errmsg}`, true);
        }

        return { accessToken: body.access_token, expiresInSeconds: body.expires_in };
    }
}
