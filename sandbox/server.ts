import * as Crypto from 'crypto';
import * as Path from 'path';

import * as Hapi from '@hapi/hapi';

import { ThrowawayCa, writeTlsMaterial } from '../lib/tls/throwaway-ca';
import { Sandbox, SandboxOptions } from '.';

export interface SandboxTls {
    /** Issues the server certificate and is the only issuer /secapi/ accepts client certificates from. */
    ca: ThrowawayCa;
}

/**
 * Starts the simulator on its own port: `npm run sandbox`. With `tls` it serves HTTPS and asks every client for a
 * certificate; /secapi/ refuses a call without one issued by that CA for the merchant (sandbox/refunds.ts).
 */
export async function startSandboxServer(options: SandboxOptions, port = 0, host = '127.0.0.1', tls?: SandboxTls): Promise<{ server: Hapi.Server; sandbox: Sandbox }> {
    const serverCertificate = tls?.ca.issueServer();
    const server = Hapi.server({
        port,
        host,
        routes: { payload: { maxBytes: 64 * 1024 } },
        tls: tls && { ...serverCertificate, ca: [tls.ca.pem.cert], requestCert: true, rejectUnauthorized: false }
    });
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
    const ca = env.SANDBOX_TLS === 'false' ? undefined : ThrowawayCa.create();
    startSandboxServer(options, Number(env.SANDBOX_PORT ?? 3100), env.HOST ?? '127.0.0.1', ca && { ca }).then(({ server }) => {
        console.log(`WeChat simulator listening on ${server.info.uri}`);
        console.log(`  accepts appid ${options.appId} and mch_id ${options.mchId}`);
        if (ca) {
            const files = writeTlsMaterial(env.SANDBOX_CERT_DIR ?? Path.join(process.cwd(), 'data', 'sandbox-tls'), ca, options.mchId);
            console.log(`  HTTPS; this run's CA: ${files.ca} (give it to the backend as WECHATPAY_API_CA)`);
            console.log(`  merchant API certificate for /secapi/: WECHATPAY_CERT=${files.cert} WECHATPAY_CERT_KEY=${files.key}`);
        }

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
