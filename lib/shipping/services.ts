import type { Config } from '../../config';
import { AccessTokens } from '../wechat/access-token';
import { WechatServerApi } from '../wechat/server-api';
import { ShippingApi } from './wechat-shipping';

export type OpsLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** What the shipping, push and notice code needs: the shared token, WeChat's server APIs, a log. */
export interface OpsServices {
    tokens: AccessTokens;
    api: WechatServerApi;
    shipping: ShippingApi;
    log: OpsLog;
}

export function createOpsServices(config: Config, baseUrl: () => string, log: OpsLog): OpsServices {
    const tokens = new AccessTokens({ appId: config.wechat.appId, secret: config.wechat.secret, baseUrl, timeoutMs: config.wechat.timeoutMs });
    const api = new WechatServerApi(tokens, baseUrl, config.wechat.timeoutMs);
    return { tokens, api, shipping: new ShippingApi(api, config.wechat.appId, config.ops.cacheSeconds), log };
}
