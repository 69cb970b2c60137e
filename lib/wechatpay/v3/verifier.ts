import type { KeyObject } from 'crypto';

import type { PlatformCertificates } from './certificates';
import { authorizationScheme, responseMessage, rsaVerify, signTestPrefix } from './signature';

/** Every SDK refuses an answer or notification whose timestamp is 300 s or more away from its clock (reference §3.3). */
export const maxClockOffsetSeconds = 300;

export type Headers = Record<string, unknown>;

export class VerificationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'VerificationError';
    }
}

export interface VerifierKeys {
    /** Public-key mode: `PUB_KEY_ID_…` and the WeChat Pay public key. */
    publicKey?: { id: string; key: KeyObject };
    /** Platform-certificate mode. Both at once is the switch-over: either signs. */
    certificates?: PlatformCertificates;
}

/** Reads a header whatever its case (Node lower-cases incoming ones; other clients may not). */
export function header(headers: Headers, name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const [key, value] of Object.entries(headers)) {
        if (key.toLowerCase() === wanted) {
            return Array.isArray(value) ? String(value[0]) : value === undefined || value === null ? undefined : String(value);
        }
    }

    return undefined;
}

/**
 * Checks a WeChat Pay v3 signature (reference §3.3) over `timestamp\nnonce\nbody\n` with the key `Wechatpay-Serial`
 * names. Answers the serial that signed; throws VerificationError otherwise.
 */
export class V3Verifier {
    constructor(private readonly keys: VerifierKeys, private readonly now: () => number = Date.now) {}

    /**
     * `only`: verify with these keys (and the public key) and never consult the certificate store: the answer of
     * /v3/certificates itself, which must not wait for the download it is part of.
     */
    async verify(headers: Headers, body: string, only?: Map<string, KeyObject>): Promise<string> {
        const timestamp = header(headers, 'Wechatpay-Timestamp');
        const nonce = header(headers, 'Wechatpay-Nonce');
        const signature = header(headers, 'Wechatpay-Signature');
        const serial = header(headers, 'Wechatpay-Serial');
        const type = header(headers, 'Wechatpay-Signature-Type');
        if (!timestamp || !nonce || !signature || !serial) {
            throw new VerificationError('missing Wechatpay-Timestamp, -Nonce, -Signature or -Serial: an unsigned answer is treated as forged');
        }

        if (type !== undefined && type !== authorizationScheme) {
            throw new VerificationError(`unsupported Wechatpay-Signature-Type ${type}`);
        }

        if (signature.startsWith(signTestPrefix)) {
            throw new VerificationError('a WECHATPAY/SIGNTEST/ signature probe: refused, as WeChat expects');
        }

        if (!/^\d{1,12}$/.test(timestamp) || Math.abs(this.now() / 1000 - Number(timestamp)) >= maxClockOffsetSeconds) {
            throw new VerificationError(`Wechatpay-Timestamp ${timestamp} is not within ${maxClockOffsetSeconds} s of our clock`);
        }

        const key = only ? only.get(serial) ?? this.publicKeyFor(serial) : this.publicKeyFor(serial) ?? await this.keys.certificates?.find(serial);
        if (!key) {
            throw new VerificationError(`no WeChat Pay public key or platform certificate with serial ${serial}`);
        }

        if (!rsaVerify(responseMessage(timestamp, nonce, body), signature, key)) {
            throw new VerificationError(`signature by ${serial} does not verify`);
        }

        return serial;
    }

    private publicKeyFor(serial: string): KeyObject | undefined {
        const { publicKey } = this.keys;
        return publicKey && serial === publicKey.id ? publicKey.key : undefined;
    }
}
