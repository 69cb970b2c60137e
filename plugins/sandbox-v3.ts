import * as Crypto from 'crypto';

import type { Config } from '../config';
import type { SandboxV3Options } from '../sandbox/pay-v3';

/** The mounted simulator's v3 side for this server's own v3 material (none without it). */
export function sandboxV3Options(config: Config): SandboxV3Options | undefined {
    const material = config.v3.material;
    return material && {
        apiV3Key: material.apiV3Key,
        merchantSerial: material.mchSerial,
        merchantPublicKey: Crypto.createPublicKey(material.mchPrivateKey),
        mode: material.publicKey ? material.platformCerts ? 'switch' : 'publicKey' : 'platform',
        wechatpayPrivateKey: material.sandboxWechatpayPrivateKey,
        publicKeyId: material.publicKey?.id
    };
}
