import * as Crypto from 'crypto';
import * as Fs from 'fs';

/** The `v3` section of the config: WeChat Pay API v3 key material (reference §3.2, §3.4), validated at start. */

export type PayApiVersion = 'v2' | 'v3';

export interface PayV3Config {
    /** Which API new payments use: v3 when v3 material is given, unless WECHATPAY_API_VERSION says otherwise. */
    apiVersion: PayApiVersion;
    /** Undefined when no v3 material is given. */
    material?: PayV3Material;
}

export interface PayV3Material {
    apiV3Key: string;
    mchSerial: string;
    mchPrivateKey: Crypto.KeyObject;
    /** Public-key mode. */
    publicKey?: { id: string; key: Crypto.KeyObject };
    /** Platform-certificate mode; with publicKey as well it is the switch-over. */
    platformCerts: boolean;
    /** SANDBOX_WECHATPAY_PRIVATE_KEY: the private half of WECHATPAY_PUBLIC_KEY, for the mounted simulator to sign with. */
    sandboxWechatpayPrivateKey?: Crypto.KeyObject;
}

type Env = Record<string, string | undefined>;

const v3Variables = ['WECHATPAY_APIV3_KEY', 'WECHATPAY_MCH_SERIAL', 'WECHATPAY_MCH_PRIVATE_KEY', 'WECHATPAY_PUBLIC_KEY_ID', 'WECHATPAY_PUBLIC_KEY', 'WECHATPAY_PLATFORM_CERTS'];

export function loadPayV3Config(env: Env, problems: string[], { production, sandbox }: { production: boolean; sandbox: boolean }): PayV3Config {
    const requested = env.WECHATPAY_API_VERSION;
    if (requested !== undefined && requested !== 'v2' && requested !== 'v3') {
        problems.push(`WECHATPAY_API_VERSION must be v2 or v3 (got "${requested}")`);
    }

    const given = v3Variables.some((name) => env[name] !== undefined);
    const material = given ? loadMaterial(env, problems) : undefined;
    if (env.SANDBOX_WECHATPAY_PRIVATE_KEY !== undefined) {
        const key = production ? undefined : rsaKey(env, 'SANDBOX_WECHATPAY_PRIVATE_KEY', 'private', problems);
        if (production) {
            problems.push('SANDBOX_WECHATPAY_PRIVATE_KEY is for the simulator only and not allowed with NODE_ENV=production');
        }
        else if (key && material?.publicKey && !samePublicKey(key, material.publicKey.key)) {
            problems.push('SANDBOX_WECHATPAY_PRIVATE_KEY must be the private half of WECHATPAY_PUBLIC_KEY');
        }
        else if (material) {
            material.sandboxWechatpayPrivateKey = key;
        }
    }
    else if (sandbox && material?.publicKey) {
        problems.push('SANDBOX_WECHATPAY_PRIVATE_KEY is required with SANDBOX=true and WECHATPAY_PUBLIC_KEY: the simulator signs as WeChat with the private half');
    }
    if (requested === 'v3' && !given) {
        problems.push('WECHATPAY_API_VERSION=v3 needs WECHATPAY_APIV3_KEY, WECHATPAY_MCH_SERIAL, WECHATPAY_MCH_PRIVATE_KEY and a WeChat Pay public key or WECHATPAY_PLATFORM_CERTS=true');
    }

    const apiVersion: PayApiVersion = requested === 'v2' || requested === 'v3' ? requested : given ? 'v3' : 'v2';
    return { apiVersion, material };
}

function loadMaterial(env: Env, problems: string[]): PayV3Material | undefined {
    const before = problems.length;
    for (const name of ['WECHATPAY_APIV3_KEY', 'WECHATPAY_MCH_SERIAL', 'WECHATPAY_MCH_PRIVATE_KEY']) {
        if (env[name] === undefined) {
            problems.push(`${name} is required with WeChat Pay API v3 material`);
        }
    }

    const apiV3Key = env.WECHATPAY_APIV3_KEY ?? '';
    if (env.WECHATPAY_APIV3_KEY !== undefined && Buffer.byteLength(apiV3Key) !== 32) {
        problems.push('WECHATPAY_APIV3_KEY must be the 32-character APIv3 key from the merchant platform');
    }

    const mchSerial = (env.WECHATPAY_MCH_SERIAL ?? '').toUpperCase();
    if (env.WECHATPAY_MCH_SERIAL !== undefined && !/^[0-9A-F]{8,40}$/.test(mchSerial)) {
        problems.push('WECHATPAY_MCH_SERIAL must be the merchant API certificate serial in hex (openssl x509 -noout -serial), not decimal');
    }

    const mchPrivateKey = rsaKey(env, 'WECHATPAY_MCH_PRIVATE_KEY', 'private', problems);

    const platformCerts = env.WECHATPAY_PLATFORM_CERTS === 'true' || env.WECHATPAY_PLATFORM_CERTS === '1';
    if (env.WECHATPAY_PLATFORM_CERTS !== undefined && !platformCerts && !['false', '0'].includes(env.WECHATPAY_PLATFORM_CERTS)) {
        problems.push(`WECHATPAY_PLATFORM_CERTS must be true or false (got "${env.WECHATPAY_PLATFORM_CERTS}")`);
    }

    let publicKey: PayV3Material['publicKey'];
    const publicKeyId = env.WECHATPAY_PUBLIC_KEY_ID;
    if ((publicKeyId === undefined) !== (env.WECHATPAY_PUBLIC_KEY === undefined)) {
        problems.push('WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY go together: the key and the id WeChat gave it');
    }
    else if (publicKeyId !== undefined) {
        if (!/^PUB_KEY_ID_\d{10,64}$/.test(publicKeyId)) {
            problems.push(`WECHATPAY_PUBLIC_KEY_ID must look like PUB_KEY_ID_0112860886012025062700111588000000 (got "${publicKeyId}")`);
        }

        const key = rsaKey(env, 'WECHATPAY_PUBLIC_KEY', 'public', problems);
        publicKey = key && { id: publicKeyId, key };
    }
    else if (!platformCerts) {
        problems.push('WeChat Pay API v3 needs WECHATPAY_PUBLIC_KEY_ID with WECHATPAY_PUBLIC_KEY, or WECHATPAY_PLATFORM_CERTS=true, or both during the switch-over');
    }

    if (problems.length > before || !mchPrivateKey) {
        return undefined;
    }

    return { apiV3Key, mchSerial, mchPrivateKey, publicKey, platformCerts };
}

function samePublicKey(privateKey: Crypto.KeyObject, publicKey: Crypto.KeyObject): boolean {
    const spki = (key: Crypto.KeyObject) => key.export({ type: 'spki', format: 'der' });
    return spki(Crypto.createPublicKey(privateKey)).equals(spki(publicKey));
}

/** An RSA key given as PEM text or as the path of a PEM file. */
function rsaKey(env: Env, name: string, type: 'private' | 'public', problems: string[]): Crypto.KeyObject | undefined {
    const value = env[name];
    if (value === undefined) {
        return undefined;
    }

    let pem = value;
    if (!value.includes('-----BEGIN')) {
        try {
            pem = Fs.readFileSync(value, 'utf8');
        }
        catch (err) {
            problems.push(`${name} is neither PEM text nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
            return undefined;
        }
    }

    try {
        const key = type === 'private' ? Crypto.createPrivateKey(pem) : Crypto.createPublicKey(pem);
        if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
            problems.push(`${name} must be an RSA key of at least 2048 bits`);
            return undefined;
        }

        return key;
    }
    catch {
        problems.push(`${name} is not a valid ${type === 'private' ? 'PEM private key (apiclient_key.pem)' : 'PEM public key (pub_key.pem)'}`);
        return undefined;
    }
}
