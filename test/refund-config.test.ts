import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import * as Forge from 'node-forge';

import { ConfigError, loadConfig } from '../config';
import { testEnv } from './helpers';
import { testCertificates } from './refund-support';

const { expect } = Code;
const { describe, it } = exports.lab = Lab.script();

type Env = Record<string, string | undefined>;

function problemOf(env: Env): string {
    try {
        loadConfig(env);
    }
    catch (err) {
        expect(err).to.be.an.instanceof(ConfigError);
        const problems = (err as ConfigError).problems;
        expect(problems, problems.join('\n')).to.have.length(1);
        return problems[0];
    }

    throw new Error('loadConfig accepted an invalid environment');
}

function writeTemp(name: string, content: string | Buffer): string {
    const file = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-refund-config-')), name);
    Fs.writeFileSync(file, content);
    return file;
}

function pkcs12(cert: string, key: string, passphrase: string): Buffer {
    const asn1 = Forge.pkcs12.toPkcs12Asn1(Forge.pki.privateKeyFromPem(key), [Forge.pki.certificateFromPem(cert)], passphrase, { algorithm: '3des' });
    return Buffer.from(Forge.asn1.toDer(asn1).getBytes(), 'binary');
}

describe('refund config', () => {

    const { cert, key, ca } = testCertificates();

    it('has no certificate and the documented defaults when none is given outside demo mode', () => {
        const refunds = loadConfig(testEnv()).refunds;
        expect(refunds.clientCertificate).to.be.undefined();
        expect(refunds.refundNoPrefix).to.equal('R');
        expect(refunds.autoRefundLatePayments).to.be.true();
        expect(refunds.notifyUrl).to.be.undefined();
    });

    it('takes the PEM pair as text or as file paths, the prefix, the switch and the notify URL', () => {
        const asText = loadConfig(testEnv({ WECHATPAY_CERT: cert, WECHATPAY_CERT_KEY: key, REFUND_NO_PREFIX: 'STG', AUTO_REFUND_LATE_PAYMENTS: 'false' })).refunds;
        expect(asText.clientCertificate).to.equal({ cert, key });
        expect(asText.certificateSource).to.equal('WECHATPAY_CERT');
        expect(asText.refundNoPrefix).to.equal('STG');
        expect(asText.autoRefundLatePayments).to.be.false();
        const certFile = writeTemp('apiclient_cert.pem', cert);
        const asFiles = loadConfig(testEnv({ WECHATPAY_CERT: certFile, WECHATPAY_CERT_KEY: writeTemp('apiclient_key.pem', key), WECHATPAY_NOTIFY_URL: 'https://shop.example.com/orders/pay/notify' })).refunds;
        expect(asFiles.clientCertificate).to.equal({ cert, key });
        expect(asFiles.certificateSource).to.equal(certFile);
        expect(asFiles.notifyUrl).to.equal('https://shop.example.com/orders/refund/notify');
    });

    it('opens a PKCS#12 file with the mch_id as passphrase by default, or the one given', () => {
        const env = testEnv();
        const byMchId = loadConfig({ ...env, WECHATPAY_PFX: writeTemp('apiclient_cert.p12', pkcs12(cert, key, env.WECHATPAY_MCHID!)) }).refunds;
        expect(byMchId.clientCertificate).to.include({ passphrase: env.WECHATPAY_MCHID });
        const given = loadConfig({ ...env, WECHATPAY_PFX: writeTemp('apiclient_cert.p12', pkcs12(cert, key, 'secret-words')), WECHATPAY_PFX_PASSPHRASE: 'secret-words' }).refunds;
        expect(given.clientCertificate).to.include({ passphrase: 'secret-words' });
    });

    it('names the variable of every bad value', () => {
        const otherKey = ca.issueMerchant('1').key;
        expect(problemOf(testEnv({ WECHATPAY_CERT: cert }))).to.match(/WECHATPAY_CERT and WECHATPAY_CERT_KEY go together/);
        expect(problemOf(testEnv({ WECHATPAY_CERT: cert, WECHATPAY_CERT_KEY: otherKey }))).to.match(/WECHATPAY_CERT_KEY is not the private key of WECHATPAY_CERT/);
        expect(problemOf(testEnv({ WECHATPAY_CERT: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----', WECHATPAY_CERT_KEY: key }))).to.match(/not a PEM certificate/);
        expect(problemOf(testEnv({ WECHATPAY_CERT: '/no/such/cert.pem', WECHATPAY_CERT_KEY: key }))).to.match(/WECHATPAY_CERT must be PEM text or the path of a readable PEM file \(ENOENT/);
        expect(problemOf(testEnv({ WECHATPAY_PFX: '/no/such/cert.p12' }))).to.match(/WECHATPAY_PFX must be the path of a readable PKCS#12 file/);
        expect(problemOf(testEnv({ WECHATPAY_PFX: writeTemp('x.p12', pkcs12(cert, key, 'another')) }))).to.match(/WECHATPAY_PFX could not be opened with the mch_id as passphrase/);
        expect(problemOf(testEnv({ WECHATPAY_PFX: writeTemp('x.p12', pkcs12(cert, key, 'another')), WECHATPAY_PFX_PASSPHRASE: 'wrong' }))).to.match(/with WECHATPAY_PFX_PASSPHRASE/);
        expect(problemOf(testEnv({ WECHATPAY_PFX: writeTemp('x.p12', pkcs12(cert, key, 'a')), WECHATPAY_PFX_PASSPHRASE: 'a', WECHATPAY_CERT: cert, WECHATPAY_CERT_KEY: key }))).to.match(/alternatives/);
        expect(problemOf(testEnv({ REFUND_NO_PREFIX: 'prod env' }))).to.match(/REFUND_NO_PREFIX/);
        expect(problemOf(testEnv({ REFUND_NO_PREFIX: 'P'.repeat(17) }))).to.match(/REFUND_NO_PREFIX/);
        expect(problemOf(testEnv({ AUTO_REFUND_LATE_PAYMENTS: 'sometimes' }))).to.match(/AUTO_REFUND_LATE_PAYMENTS must be true or false/);
        expect(problemOf(testEnv({ WECHATPAY_REFUND_NOTIFY_URL: 'ftp://x' }))).to.match(/WECHATPAY_REFUND_NOTIFY_URL/);
        expect(problemOf(testEnv({ WECHATPAY_API_CA: '/no/such/ca.pem' }))).to.match(/WECHATPAY_API_CA/);
    });

    it('demo mode makes a throwaway CA and merchant certificate under data/ once, and keeps them', () => {
        const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-demo-tls-'));
        const demo = { NODE_ENV: 'test', DATA_DIR: dataDir };
        const first = loadConfig(demo).refunds;
        expect(first.certificateSource).to.equal(Path.join(dataDir, 'demo-tls'));
        expect(Fs.readdirSync(first.certificateSource!).sort()).to.equal(['apiclient_cert.pem', 'apiclient_key.pem', 'ca.pem']);
        expect(loadConfig(demo).refunds.clientCertificate).to.equal(first.clientCertificate);
        const subject = Forge.pki.certificateFromPem((first.clientCertificate as { cert: string }).cert).subject.getField('CN').value;
        expect(subject).to.equal(loadConfig(demo).pay.mchId);
    });
});
