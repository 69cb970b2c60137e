import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Path from 'path';
import * as Tls from 'tls';

import { ThrowawayCa, writeTlsMaterial } from '../lib/tls/throwaway-ca';

type Env = Record<string, string | undefined>;

/** The merchant API certificate for `/secapi/` (mutual TLS): a PEM pair, or a PKCS#12 file. */
export type ClientCertificate = { cert: string; key: string } | { pfx: Buffer; passphrase: string };

export interface RefundConfig {
    /** Undefined: no certificate configured, refunds are refused with a message saying so. */
    clientCertificate?: ClientCertificate;
    /** Where the certificate came from, for the start banner (a path or "WECHATPAY_CERT"), never its content. */
    certificateSource?: string;
    /** Extra CA to trust for the Pay API host (the standalone simulator's); WeChat's own host needs none. */
    apiCa?: string;
    /** Starts every out_refund_no, so environments sharing one mch_id never reuse a number. */
    refundNoPrefix: string;
    /** Refund in full, by a job, money that arrived for an order already closed. */
    autoRefundLatePayments: boolean;
    /** Undefined: beside WECHATPAY_NOTIFY_URL, or this server's own /orders/refund/notify. */
    notifyUrl?: string;
}

const prefixPattern = /^[0-9A-Za-z_\-|*@]{1,16}$/;

/** PEM text as given, or the content of the file it names. */
function pemOrFile(env: Env, name: string, problems: string[]): string | undefined {
    const value = env[name];
    if (value === undefined) {
        return undefined;
    }

    if (value.includes('-----BEGIN')) {
        return value;
    }

    try {
        return Fs.readFileSync(value, 'utf8');
    }
    catch (err) {
        problems.push(`${name} must be PEM text or the path of a readable PEM file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}: ${value})`);
        return undefined;
    }
}

function pemPair(env: Env, problems: string[]): ClientCertificate | undefined {
    const cert = pemOrFile(env, 'WECHATPAY_CERT', problems);
    const key = pemOrFile(env, 'WECHATPAY_CERT_KEY', problems);
    if ((env.WECHATPAY_CERT === undefined) !== (env.WECHATPAY_CERT_KEY === undefined)) {
        problems.push('WECHATPAY_CERT and WECHATPAY_CERT_KEY go together: the merchant API certificate and its private key');
        return undefined;
    }

    if (cert === undefined || key === undefined) {
        return undefined;
    }

    try {
        const x509 = new Crypto.X509Certificate(cert);
        if (!x509.checkPrivateKey(Crypto.createPrivateKey(key))) {
            problems.push('WECHATPAY_CERT_KEY is not the private key of WECHATPAY_CERT');
            return undefined;
        }
    }
    catch (err) {
        problems.push(`WECHATPAY_CERT / WECHATPAY_CERT_KEY: not a PEM certificate and private key (${(err as Error).message})`);
        return undefined;
    }

    return { cert, key };
}

function pkcs12(env: Env, mchId: string, problems: string[]): ClientCertificate | undefined {
    let pfx: Buffer;
    try {
        pfx = Fs.readFileSync(env.WECHATPAY_PFX!);
    }
    catch (err) {
        problems.push(`WECHATPAY_PFX must be the path of a readable PKCS#12 file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}: ${env.WECHATPAY_PFX})`);
        return undefined;
    }

    // WeChat's apiclient_cert.p12 is protected with the mch_id.
    const passphrase = env.WECHATPAY_PFX_PASSPHRASE ?? mchId;
    try {
        Tls.createSecureContext({ pfx, passphrase });
    }
    catch (err) {
        problems.push(`WECHATPAY_PFX could not be opened with ${env.WECHATPAY_PFX_PASSPHRASE === undefined ? 'the mch_id as passphrase' : 'WECHATPAY_PFX_PASSPHRASE'} (${(err as Error).message})`);
        return undefined;
    }

    return { pfx, passphrase };
}

/**
 * Demo mode's throwaway CA and merchant certificate, made once under data/demo-tls/ (the simulator mounted
 * in-process speaks plain HTTP, so they are configured but only the standalone simulator checks them).
 */
export function demoCertificates(dataDir: string, mchId: string): { cert: string; key: string; folder: string } {
    const folder = Path.join(dataDir, 'demo-tls');
    let files = { cert: Path.join(folder, 'apiclient_cert.pem'), key: Path.join(folder, 'apiclient_key.pem') };
    if (!Fs.existsSync(files.cert) || !Fs.existsSync(files.key)) {
        files = writeTlsMaterial(folder, ThrowawayCa.create('wxshop demo CA'), mchId);
    }

    return { cert: Fs.readFileSync(files.cert, 'utf8'), key: Fs.readFileSync(files.key, 'utf8'), folder };
}

export function loadRefundConfig(env: Env, context: { demo: boolean; dataDir: string; mchId: string }, problems: string[], parseBoolean: (value: string | undefined, name: string) => boolean | undefined): RefundConfig {
    if (env.WECHATPAY_PFX !== undefined && (env.WECHATPAY_CERT !== undefined || env.WECHATPAY_CERT_KEY !== undefined)) {
        problems.push('WECHATPAY_PFX and WECHATPAY_CERT/WECHATPAY_CERT_KEY are alternatives: give one of them');
    }

    let clientCertificate: ClientCertificate | undefined;
    let certificateSource: string | undefined;
    if (env.WECHATPAY_PFX !== undefined) {
        clientCertificate = pkcs12(env, context.mchId, problems);
        certificateSource = env.WECHATPAY_PFX;
    }
    else if (env.WECHATPAY_CERT !== undefined || env.WECHATPAY_CERT_KEY !== undefined) {
        clientCertificate = pemPair(env, problems);
        certificateSource = env.WECHATPAY_CERT?.includes('-----BEGIN') ? 'WECHATPAY_CERT' : env.WECHATPAY_CERT;
    }
    else if (context.demo) {
        const demo = demoCertificates(context.dataDir, context.mchId);
        clientCertificate = { cert: demo.cert, key: demo.key };
        certificateSource = demo.folder;
    }

    const refundNoPrefix = env.REFUND_NO_PREFIX ?? 'R';
    if (!prefixPattern.test(refundNoPrefix)) {
        problems.push(`REFUND_NO_PREFIX must be 1-16 of 0-9 A-Z a-z _ - | * @ (got "${refundNoPrefix}")`);
    }

    const notifyUrl = env.WECHATPAY_REFUND_NOTIFY_URL
        ?? (env.WECHATPAY_NOTIFY_URL && /^https?:\/\//.test(env.WECHATPAY_NOTIFY_URL) ? new URL('/orders/refund/notify', env.WECHATPAY_NOTIFY_URL).href : undefined);
    if (notifyUrl !== undefined && !/^https?:\/\/[^?#\s]+$/.test(notifyUrl)) {
        problems.push('WECHATPAY_REFUND_NOTIFY_URL must be an http(s) URL without a query string');
    }

    return {
        notifyUrl,
        clientCertificate,
        certificateSource,
        apiCa: pemOrFile(env, 'WECHATPAY_API_CA', problems),
        refundNoPrefix,
        autoRefundLatePayments: parseBoolean(env.AUTO_REFUND_LATE_PAYMENTS, 'AUTO_REFUND_LATE_PAYMENTS') ?? true
    };
}
