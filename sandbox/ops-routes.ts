import type { Plugin, Request, ResponseToolkit } from '@hapi/hapi';

import type { FaultBook } from './faults';
import * as Ids from './ids';
import type { SimClock } from './clock';
import type { SandboxOptions, SandboxSettings } from './options';
import { deliveryCompanies, ShippingBook } from './ops-shipping';
import type { Subscriptions } from './ops-subscribe';
import type { OpsTokens } from './ops-tokens';
import type { OpsSettings } from './ops-settings';

/** api.weixin.qq.com's mini-program server APIs: tokens, shipping management, courier list, subscribe send. */

export interface OpsRoutesContext {
    options: SandboxOptions;
    settings: SandboxSettings;
    ops: OpsSettings;
    clock: SimClock;
    tokens: OpsTokens;
    shipping: ShippingBook;
    subscriptions: Subscriptions;
    /** Armed by `POST /__sim/ops/faults`, keyed by the API's last path segment. */
    opsFaults: FaultBook;
    /** Calls of each token-bearing API, by its last path segment (for the tests of caches). */
    apiCalls: Record<string, number>;
}

const tokenMessages: Record<number, string> = {
    40001: 'invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken',
    41001: 'access_token missing',
    42001: 'access_token expired'
};

export const opsRoutes: Plugin<OpsRoutesContext> = {
    name: 'wxshop-sandbox-ops',
    register(server, context) {
        const { options, settings, ops, clock, tokens, shipping, subscriptions, opsFaults, apiCalls } = context;
        const reply = (h: ResponseToolkit, body: object) => {
            const response = h.response(JSON.stringify(body));
            return settings.plainTextJson ? response.type('text/plain') : response.type('application/json');
        };

        const error = (h: ResponseToolkit, errcode: number, errmsg: string) => reply(h, { errcode, errmsg: `${errmsg} rid: ${Ids.rid()}` });

        const credentialProblem = (appid: unknown, secret: unknown): [number, string] | undefined => {
            if (!appid) {
                return [41002, 'appid missing'];
            }

            if (!secret) {
                return [41004, 'appsecret missing'];
            }

            if (appid !== options.appId) {
                return [40013, 'invalid appid'];
            }

            return secret === options.appSecret ? undefined : [40125, 'invalid appsecret'];
        };

        server.route({
            method: 'GET',
            path: '/cgi-bin/token',
            options: { description: 'getAccessToken: every call invalidates the token before it (after the grace period)', tags: ['sandbox'] },
            handler: (request, h) => {
                const query = request.query as Record<string, string | undefined>;
                if (query.grant_type !== 'client_credential') {
                    return error(h, 40002, 'invalid grant_type');
                }

                const problem = credentialProblem(query.appid, query.secret);
                if (problem) {
                    return error(h, ...problem);
                }

                const issued = tokens.issuePlain();
                return reply(h, { access_token: issued.token, expires_in: Math.floor((issued.expiresAt - clock.now()) / 1000) });
            }
        });

        server.route({
            method: 'POST',
            path: '/cgi-bin/stable_token',
            options: { description: 'getStableAccessToken (normal and force_refresh mode)', tags: ['sandbox'] },
            handler: (request, h) => {
                const body = request.payload as any;
                if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) {
                    return error(h, 47001, 'data format error');
                }

                if (body.grant_type !== 'client_credential') {
                    return error(h, 40002, 'invalid grant_type');
                }

                const problem = credentialProblem(body.appid, body.secret);
                if (problem) {
                    return error(h, ...problem);
                }

                const issued = tokens.stableToken(body.force_refresh === true);
                if (!issued) {
                    return error(h, 45009, 'reach max api daily quota limit');
                }

                return reply(h, { access_token: issued.token, expires_in: Math.floor((issued.expiresAt - clock.now()) / 1000) });
            }
        });

        /** A token-bearing POST: 41001/40001/42001 first, then 47001 for a body that is not a JSON object. */
        const tokenRoute = (path: string, description: string, handle: (body: any, h: ResponseToolkit, request: Request) => object | Promise<object>) => server.route({
            method: 'POST',
            path,
            options: { description, tags: ['sandbox'], payload: { parse: false } },
            handler: async (request, h) => {
                const errcode = tokens.check((request.query as Record<string, string | undefined>).access_token);
                if (errcode) {
                    return error(h, errcode, tokenMessages[errcode]);
                }

                const name = path.slice(path.lastIndexOf('/') + 1);
                apiCalls[name] = (apiCalls[name] ?? 0) + 1;
                const fault = opsFaults.take(name);
                if (fault?.kind === 'http500') {
                    return h.response('<html><body>502 Bad Gateway</body></html>').type('text/html').code(502);
                }

                if (fault) {
                    return error(h, Number(fault.code ?? -1), 'simulated error');
                }

                let body: any;
                try {
                    body = JSON.parse((request.payload as Buffer).toString('utf8') || 'null');
                }
                catch {
                    body = undefined;
                }

                if (typeof body !== 'object' || body === null || Array.isArray(body)) {
                    return error(h, 47001, 'data format error');
                }

                const answer = await handle(body, h, request);
                return 'errcode' in answer && (answer as any).errcode !== 0 ? error(h, (answer as any).errcode, (answer as any).errmsg) : reply(h, answer);
            }
        });

        const managed = () => ops.tradeManaged ? undefined : { errcode: 48001, errmsg: 'api unauthorized' };

        tokenRoute('/wxa/sec/order/is_trade_managed', 'is_trade_managed', (body) => {
            if (!body.appid) {
                return { errcode: 40097, errmsg: 'invalid args: appid missing' };
            }

            return body.appid === options.appId ? { errcode: 0, errmsg: 'ok', is_trade_managed: ops.tradeManaged } : { errcode: 40013, errmsg: 'invalid appid' };
        });

        tokenRoute('/wxa/sec/order/upload_shipping_info', 'upload_shipping_info', (body) => managed() ?? shipping.upload(body) ?? { errcode: 0, errmsg: 'ok' });

        tokenRoute('/wxa/sec/order/get_order', 'get_order', async (body) => {
            const refused = managed();
            if (refused) {
                return refused;
            }

            if (!body.transaction_id && !(body.merchant_id && body.merchant_trade_no)) {
                return { errcode: 10060014, errmsg: 'transaction_id or merchant_id and merchant_trade_no required' };
            }

            await shipping.advance();
            const record = shipping.find(body.transaction_id ? { transactionId: body.transaction_id } : { mchId: body.merchant_id, outTradeNo: body.merchant_trade_no });
            return record ? { errcode: 0, errmsg: 'ok', order: shipping.view(record) } : { errcode: 10060001, errmsg: '支付单不存在' };
        });

        tokenRoute('/cgi-bin/express/delivery/open_msg/get_delivery_list', 'get_delivery_list', () =>
            ({ errcode: 0, delivery_list: deliveryCompanies, count: deliveryCompanies.length }));

        tokenRoute('/cgi-bin/message/subscribe/send', 'subscribeMessage.send', (body) => subscriptions.send(body, clock.now()));
    }
};
