import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Path from 'path';

/**
 * `WECHATPAY_API_VERSION=v3` in demo mode: throwaway v3 material in public-key mode, made once under
 * `<DATA_DIR>/demo-v3/` and given to the v3 config as the variables a merchant would set (keys as PEM file paths).
 * The WeChat Pay key pair's private half is the mounted simulator's, so it signs as WeChat.
 */
export function demoV3Env(dataDir: string): Record<string, string> {
    const dir = demoV3Dir(dataDir);
    const file = (name: string) => Path.join(dir, name);
    if (!Fs.existsSync(file('settings.json'))) {
        Fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const pem = (key: Crypto.KeyObject) => key.export(key.type === 'private' ? { type: 'pkcs8', format: 'pem' } : { type: 'spki', format: 'pem' }) as string;
        const merchant = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const wechatpay = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        Fs.writeFileSync(file('apiclient_key.pem'), pem(merchant.privateKey), { mode: 0o600 });
        Fs.writeFileSync(file('pub_key.pem'), pem(wechatpay.publicKey));
        Fs.writeFileSync(file('sandbox_wechatpay_key.pem'), pem(wechatpay.privateKey), { mode: 0o600 });
        Fs.writeFileSync(file('settings.json'), JSON.stringify({
            WECHATPAY_APIV3_KEY: Crypto.randomBytes(16).toString('hex'),
            WECHATPAY_MCH_SERIAL: Crypto.randomBytes(20).toString('hex').toUpperCase(),
            WECHATPAY_PUBLIC_KEY_ID: `PUB_KEY_ID_01${Date.now()}${Crypto.randomInt(1e9)}`
        }, null, 2), { mode: 0o600 });
    }

    return {
        ...JSON.parse(Fs.readFileSync(file('settings.json'), 'utf8')) as Record<string, string>,
        WECHATPAY_MCH_PRIVATE_KEY: file('apiclient_key.pem'),
        WECHATPAY_PUBLIC_KEY: file('pub_key.pem'),
        SANDBOX_WECHATPAY_PRIVATE_KEY: file('sandbox_wechatpay_key.pem')
    };
}

export function demoV3Dir(dataDir: string): string {
    return Path.join(dataDir, 'demo-v3');
}
