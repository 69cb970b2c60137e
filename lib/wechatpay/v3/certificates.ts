import { KeyObject, X509Certificate } from 'crypto';

import { decryptResource, EncryptedResource } from './aead';
import { parseRfc3339 } from './time';

/** One entry of `GET /v3/certificates` (reference §3.4). */
export interface CertificateEntry {
    serial_no: string;
    effective_time: string;
    expire_time: string;
    encrypt_certificate: EncryptedResource;
}

export interface PlatformCertificate {
    serial: string;
    key: KeyObject;
    expiresAt: number;
}

/**
 * Decrypts the entries with the APIv3 key. The AEAD tag authenticates each certificate (only WeChat and the merchant
 * hold that key), which is what makes the very first download trustworthy. Expired ones and ones whose serial
 * differs from their own certificate are dropped.
 */
export function decryptCertificates(entries: CertificateEntry[], apiV3Key: string, now: number): PlatformCertificate[] {
    const certificates: PlatformCertificate[] = [];
    for (const entry of entries) {
        const pem = decryptResource(entry.encrypt_certificate, apiV3Key);
        const x509 = new X509Certificate(pem);
        const expiresAt = parseRfc3339(entry.expire_time)?.getTime() ?? new Date(x509.validTo).getTime();
        if (x509.serialNumber.toUpperCase() !== entry.serial_no.toUpperCase() || expiresAt <= now) {
            continue;
        }

        certificates.push({ serial: entry.serial_no, key: x509.publicKey, expiresAt });
    }

    return certificates;
}

export interface PlatformCertificatesOptions {
    /** Downloads, verifies and decrypts the current certificates. */
    download: () => Promise<PlatformCertificate[]>;
    /** How often the scheduled refresh runs (WeChat rotates certificates with 5 days of overlap). */
    refreshMs: number;
    /** An unknown serial refreshes at most this often, so a flood of bogus serials costs one download. */
    unknownSerialCooldownMs: number;
    now?: () => number;
}

/**
 * The platform certificates, all valid ones kept by serial (during a rotation both sign). Refreshes are coalesced:
 * whoever asks while one is running waits for that one.
 */
export class PlatformCertificates {
    private readonly bySerial = new Map<string, PlatformCertificate>();
    private running?: Promise<void>;
    private lastRefreshAt = -Infinity;
    private timer?: NodeJS.Timeout;
    private readonly now: () => number;
    /** How many downloads were started (for operators and tests). */
    downloads = 0;

    constructor(private readonly options: PlatformCertificatesOptions) {
        this.now = options.now ?? Date.now;
    }

    /** The serials of the certificates still valid. */
    get serials(): string[] {
        return [...this.bySerial.keys()].filter((serial) => this.valid(serial));
    }

    async find(serial: string): Promise<KeyObject | undefined> {
        const known = this.valid(serial);
        if (known) {
            return known;
        }

        if (this.running || this.now() - this.lastRefreshAt >= this.options.unknownSerialCooldownMs) {
            await this.refresh().catch(() => undefined);
        }

        return this.valid(serial);
    }

    refresh(): Promise<void> {
        this.running ??= this.download().finally(() => {
            this.running = undefined;
        });
        return this.running;
    }

    /** Refreshes on a schedule until `stop()`; the timer never keeps the process alive. */
    start(): void {
        this.timer ??= setInterval(() => this.refresh().catch(() => undefined), this.options.refreshMs);
        this.timer.unref();
    }

    stop(): void {
        clearInterval(this.timer);
        this.timer = undefined;
    }

    private async download(): Promise<void> {
        ++this.downloads;
        this.lastRefreshAt = this.now();
        for (const certificate of await this.options.download()) {
            this.bySerial.set(certificate.serial, certificate);
        }
    }

    private valid(serial: string): KeyObject | undefined {
        const certificate = this.bySerial.get(serial);
        if (certificate && certificate.expiresAt <= this.now()) {
            this.bySerial.delete(serial);
            return undefined;
        }

        return certificate?.key;
    }
}
