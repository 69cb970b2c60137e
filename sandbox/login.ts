import type { Plugin, ResponseToolkit } from '@hapi/hapi';
import * as Joi from 'joi';

import type { SimClock } from './clock';
import type { FaultBook } from './faults';
import { setBounded } from './bounded';
import * as Ids from './ids';
import type { SandboxOptions, SandboxSettings } from './options';
import type { Waits } from './waits';

const codeTtlMs = 5 * 60_000;

/** At most this many codes and session keys are kept; the oldest go first (a code lives 5 minutes anyway). */
export const maxKeptCodes = 10_000;

interface IssuedCode {
    appId: string;
    openid: string;
    /** Only when the mini-program is bound to an Open Platform account (reference §1.1). */
    unionid?: string;
    issuedAt: number;
    used: boolean;
    blocked: boolean;
}

/** What `wx.login()` hands the mini-program, and what jscode2session later redeems (reference §1.1). */
export class LoginCodes {
    private readonly codes = new Map<string, IssuedCode>();
    private readonly sessionKeys = new Map<string, string>();

    constructor(private readonly clock: SimClock) {}

    issue(appId: string, openid: string, blocked = false, unionid?: string): string {
        const code = Ids.loginCode();
        setBounded(this.codes, code, { appId, openid, unionid, issuedAt: this.clock.now(), used: false, blocked }, maxKeptCodes);
        return code;
    }

    /** Redeems a code: the session on success, otherwise WeChat's errcode and message. */
    redeem(code: string, appId: string): { openid: string; unionid?: string; sessionKey: string } | { errcode: number; errmsg: string } {
        const issued = this.codes.get(code);
        if (!issued || issued.appId !== appId || this.clock.now() - issued.issuedAt > codeTtlMs) {
            return { errcode: 40029, errmsg: 'invalid code' };
        }

        if (issued.used) {
            return { errcode: 40163, errmsg: 'code been used' };
        }

        issued.used = true;
        if (issued.blocked) {
            return { errcode: 40226, errmsg: 'code blocked' };
        }

        const sessionKey = this.sessionKeys.get(issued.openid) ?? Ids.sessionKey();
        setBounded(this.sessionKeys, issued.openid, sessionKey, maxKeptCodes);
        return { openid: issued.openid, unionid: issued.unionid, sessionKey };
    }
}

export interface LoginRoutesContext {
    options: SandboxOptions;
    settings: SandboxSettings;
    codes: LoginCodes;
    faults: FaultBook;
    waits: Waits;
}

export const loginRoutes: Plugin<LoginRoutesContext> = {
    name: 'wxshop-sandbox-login',
    register(server, { options, settings, codes, faults, waits }) {
        const reply = (h: ResponseToolkit, body: object) => {
            const response = h.response(JSON.stringify(body));
            return settings.plainTextJson ? response.type('text/plain') : response.type('application/json');
        };

        const error = (h: ResponseToolkit, errcode: number, errmsg: string) => reply(h, { errcode, errmsg: `${errmsg}, rid: ${Ids.rid()}` });

        server.route({
            method: 'GET',
            path: '/sns/jscode2session',
            options: { description: 'auth.code2Session', tags: ['sandbox'] },
            handler: async (request, h) => {
                const query = request.query as Record<string, string | undefined>;
                const fault = faults.take('jscode2session');
                if (fault?.kind === 'timeout') {
                    await waits.sleep(fault.delayMs ?? 10_000);
                }

                if (fault?.kind === 'http500') {
                    return h.response('<html><body>502 Bad Gateway</body></html>').type('text/html').code(502);
                }

                if (fault?.kind === 'errcode') {
                    return error(h, Number(fault.code), 'simulated error');
                }

                if (!query.appid) {
                    return error(h, 41002, 'appid missing');
                }

                if (!query.secret) {
                    return error(h, 41004, 'appsecret missing');
                }

                if (!query.js_code) {
                    return error(h, 41008, 'missing code');
                }

                if (query.grant_type !== 'authorization_code') {
                    return error(h, 40002, 'invalid grant_type');
                }

                if (query.appid !== options.appId) {
                    return error(h, 40013, 'invalid appid');
                }

                if (query.secret !== options.appSecret) {
                    return error(h, 40125, 'invalid appsecret');
                }

                const session = codes.redeem(query.js_code, query.appid);
                if ('errcode' in session) {
                    return error(h, session.errcode, session.errmsg);
                }

                return reply(h, { session_key: session.sessionKey, openid: session.openid, ...(session.unionid ? { unionid: session.unionid } : {}) });
            }
        });

        server.route({
            method: 'POST',
            path: '/sns/jscode2session',
            options: { description: 'auth.code2Session only answers GET', tags: ['sandbox'] },
            handler: (_request, h) => error(h, 41002, 'appid missing')
        });

        server.route({
            method: 'POST',
            path: '/__sim/login-codes',
            options: {
                description: 'What wx.login() would give the mini-program: a fresh single-use code',
                tags: ['sandbox'],
                validate: {
                    payload: Joi.object({
                        openid: Joi.string().max(128),
                        unionid: Joi.string().max(128).description('answered by jscode2session as for a mini-program bound to an Open Platform account'),
                        blocked: Joi.boolean().description('the code is refused with 40226 (risky user)')
                    }).allow(null)
                }
            },
            handler: (request) => {
                const payload = (request.payload ?? {}) as { openid?: string; unionid?: string; blocked?: boolean };
                const openid = payload.openid ?? Ids.openid();
                return { code: codes.issue(options.appId, openid, payload.blocked, payload.unionid), openid };
            }
        });
    }
};
