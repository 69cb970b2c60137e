import * as Crypto from 'crypto';

import { randomApiV3Key, randomSerial } from './v3-helpers';

export type V3Mode = 'publicKey' | 'platform' | 'switch';

/** The app's environment for v3 material made at random, in one of the three merchant modes. */
export function v3Env(mode: V3Mode): Record<string, string | undefined> {
    const merchant = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wechatpay = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
        WECHATPAY_APIV3_KEY: randomApiV3Key(),
        WECHATPAY_MCH_SERIAL: randomSerial(),
        WECHATPAY_MCH_PRIVATE_KEY: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        ...mode !== 'platform' && {
            WECHATPAY_PUBLIC_KEY_ID: `PUB_KEY_ID_01${Date.now()}${Crypto.randomInt(1e9)}`,
            WECHATPAY_PUBLIC_KEY: wechatpay.publicKey.export({ type: 'spki', format: 'pem' }) as string,
            SANDBOX_WECHATPAY_PRIVATE_KEY: wechatpay.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
        },
        ...mode !== 'publicKey' && { WECHATPAY_PLATFORM_CERTS: 'true' }
    };
}
