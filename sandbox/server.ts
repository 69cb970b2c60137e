import * as Crypto from 'crypto';
import * as Hapi from '@hapi/hapi';

import { Sandbox, SandboxOptions } from '.';

/** Starts the simulator on its own port: `npm run sandbox`. */
export async function startSandboxServer(options: SandboxOptions, port = 0, host = '127.0.0.1'): Promise<{ server: Hapi.Server; sandbox: Sandbox }> {
    const server = Hapi.server({ port, host, routes: { payload: { maxBytes: 64 * 1024 } } });
    const sandbox = new Sandbox(options);
    await server.register(sandbox.plugin);
    await server.start();
    return { server, sandbox };
}

// The command line entry point: `npm run sandbox`.
// $lab:coverage:off$
if (require.main === module) {
    const env = process.env;
    const options: SandboxOptions = {
        appId: env.WECHAT_APPID ?? `wx${Crypto.randomBytes(8).toString('hex')}`,
        appSecret: env.WECHAT_SECRET ?? Crypto.randomBytes(16).toString('hex'),
        mchId: env.WECHATPAY_MCHID ?? '1900000109',
        apiKey: env.WECHATPAY_KEY ?? Crypto.randomBytes(16).toString('hex')
    };
    startSandboxServer(options, Number(env.SANDBOX_PORT ?? 3100), env.HOST ?? '127.0.0.1').then(({ server }) => {
        console.log(`WeChat simulator listening on ${server.info.uri}`);
        console.log(`  accepts appid ${options.appId} and mch_id ${options.mchId}`);
        if (!env.WECHAT_SECRET || !env.WECHATPAY_KEY) {
            // Throwaway credentials made for this run only; real ones come from the environment and are never printed.
            console.log(`  generated for this run: WECHAT_SECRET=${options.appSecret} WECHATPAY_KEY=${options.apiKey}`);
        }
    }, (err) => {
        console.error(err);
        process.exit(1);
    });
}
// $lab:coverage:on$
