import * as Crypto from 'crypto';

import * as Forge from 'node-forge';

import { encryptGcm } from '../lib/wechatpay/v3/aead';
import type { CertificateEntry } from '../lib/wechatpay/v3/certificates';
import { responseMessage, rsaSign, signTestPrefix } from '../lib/wechatpay/v3/signature';
import { formatRfc3339Beijing } from '../lib/wechatpay/v3/time';

/**
 * WeChat's side of API v3 for the simulator's merchant (reference §3.4): the WeChat Pay public key with its
 * `PUB_KEY_ID_…`, and platform certificates (throwaway, self-signed, 5 years), all generated at start unless given.
 */

export interface PlatformKey {
    serial: string;
    privateKey: Crypto.KeyObject;
    certificatePem: string;
    effectiveAt: number;
    expiresAt: number;
}

export type SignatureFault = 'badsign' | 'signtest' | 'stale' | 'unknownserial' | 'nosign';

const fiveYearsMs = 5 * 365 * 86400_000;

export function generateRsaKey(): Crypto.KeyObject {
    return Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function randomSerial(): string {
    // A positive 16-byte serial, uppercase hex as `openssl x509 -serial` prints it.
    return `4${Crypto.randomBytes(15).toString('hex').toUpperCase().slice(1)}`;
}

export function platformKey(now: number, privateKey = generateRsaKey()): PlatformKey {
    const serial = randomSerial();
    const certificate = Forge.pki.createCertificate();
    certificate.publicKey = Forge.pki.publicKeyFromPem(Crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string);
    certificate.serialNumber = serial;
    certificate.validity.notBefore = new Date(now - 60_000);
    certificate.validity.notAfter = new Date(now + fiveYearsMs);
    const name = [{ name: 'commonName', value: 'Tenpay.com Root CA (wxshop simulator)' }];
    certificate.setSubject(name);
    certificate.setIssuer(name);
    certificate.sign(Forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), Forge.md.sha256.create());
    return { serial, privateKey, certificatePem: Forge.pki.certificateToPem(certificate), effectiveAt: now, expiresAt: now + fiveYearsMs };
}

export function publicKeyId(): string {
    return `PUB_KEY_ID_01${Array.from({ length: 32 }, () => Crypto.randomInt(10)).join('')}`;
}

export class WechatKeys {
    readonly publicKey: { id: string; privateKey: Crypto.KeyObject };
    readonly platform: PlatformKey[] = [];

    constructor(now: number, wechatpayPrivateKey?: Crypto.KeyObject, givenPublicKeyId?: string) {
        this.publicKey = { id: givenPublicKeyId ?? publicKeyId(), privateKey: wechatpayPrivateKey ?? generateRsaKey() };
        this.platform.push(platformKey(now));
    }

    /** A new platform certificate beside the old one, as WeChat rotates them; the newest signs from now on. */
    rotate(now: number): PlatformKey {
        const key = platformKey(now);
        this.platform.push(key);
        return key;
    }

    get newestPlatform(): PlatformKey {
        return this.platform[this.platform.length - 1];
    }

    /** The `data` of GET /v3/certificates, each certificate encrypted with the merchant's APIv3 key. */
    certificateEntries(apiV3Key: string, now: number): CertificateEntry[] {
        return this.platform.filter((key) => key.expiresAt > now).map((key) => {
            const nonce = Crypto.randomBytes(6).toString('hex');
            return {
                serial_no: key.serial,
                effective_time: formatRfc3339Beijing(new Date(key.effectiveAt)),
                expire_time: formatRfc3339Beijing(new Date(key.expiresAt)),
                encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce, associated_data: 'certificate', ciphertext: encryptGcm(key.certificatePem, apiV3Key, nonce, 'certificate') }
            };
        });
    }

    /** The five Wechatpay-* headers over `body` by the key of `serial`, disturbed as a fault asks. */
    signHeaders(serial: string, body: string, nowMs: number, fault?: SignatureFault): Record<string, string> {
        if (fault === 'nosign') {
            return {};
        }

        const privateKey = serial === this.publicKey.id ? this.publicKey.privateKey : this.platform.find((key) => key.serial === serial)!.privateKey;
        const timestamp = String(Math.floor(nowMs / 1000) - (fault === 'stale' ? 600 : 0));
        const nonce = Crypto.randomBytes(16).toString('hex').toUpperCase();
        let signature = rsaSign(responseMessage(timestamp, nonce, body), privateKey);
        if (fault === 'badsign') {
            signature = rsaSign(responseMessage(timestamp, nonce, `${body} `), privateKey);
        }
        else if (fault === 'signtest') {
            signature = `${signTestPrefix}${signature.slice(signTestPrefix.length)}`;
        }

        return {
            'Wechatpay-Timestamp': timestamp,
            'Wechatpay-Nonce': nonce,
            'Wechatpay-Signature': signature,
            'Wechatpay-Serial': fault === 'unknownserial' ? randomSerial() : serial,
            'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048'
        };
    }
}
