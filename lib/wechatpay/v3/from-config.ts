import type { Config } from '../../../config';
import { PayV3Client } from './client';

/** The v3 client for this server's v3 material (undefined without it); `baseUrl` as for the v2 client. */
export function payV3ClientFromConfig(config: Config, baseUrl: () => string): PayV3Client | undefined {
    const material = config.v3.material;
    return material && new PayV3Client({
        appId: config.wechat.appId,
        mchId: config.pay.mchId,
        mchSerial: material.mchSerial,
        privateKey: material.mchPrivateKey,
        apiV3Key: material.apiV3Key,
        publicKey: material.publicKey,
        platformCerts: material.platformCerts,
        baseUrl,
        timeoutMs: config.pay.timeoutMs
    });
}
