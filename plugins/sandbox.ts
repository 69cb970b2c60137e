import type { Plugin } from '@hapi/hapi';

import type { Config } from '../config';
import type { AdjustableClock } from '../lib/clock';
import { Sandbox } from '../sandbox';
import { sandboxV3Options } from './sandbox-v3';

export const sandboxPrefix = '/sandbox';

/**
 * Mounts the WeChat simulator at /sandbox, accepting exactly this server's credentials. In demo mode and with
 * SANDBOX=true the WeChat base URLs default to it. It runs on the backend's clock.
 */
export const sandboxPlugin: Plugin<{ config: Config; clock: AdjustableClock }> = {
    name: 'wxshop-sandbox-mount',
    async register(server, { config, clock }) {
        const sandbox = new Sandbox({
            appId: config.wechat.appId,
            appSecret: config.wechat.secret,
            mchId: config.pay.mchId,
            apiKey: config.pay.apiKey,
            defaultSignType: config.pay.signType,
            v3: sandboxV3Options(config),
            push: config.ops.push.token === undefined ? undefined : {
                url: () => `${server.info.uri}/wechat/push`,
                token: config.ops.push.token,
                encodingAesKey: config.ops.push.encodingAesKey,
                mode: config.ops.push.mode,
                format: config.ops.push.format,
                originalId: 'gh_0123456789ab'
            }
        }, clock);
        await server.register(sandbox.plugin, { routes: { prefix: sandboxPrefix } });
        server.expose('sandbox', sandbox);
    }
};
