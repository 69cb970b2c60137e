import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Path from 'path';

import * as Forge from 'node-forge';

/**
 * A throwaway certificate authority for the simulator and demo mode: it issues the "WeChat" server certificate and
 * the merchant's API client certificate (subject CN = mch_id, as WeChat's apiclient_cert carries the merchant id).
 * Keys come from Node's crypto (fast); node-forge only builds and signs the certificates.
 */
export interface Pem {
    cert: string;
    key: string;
}

const dayMs = 86_400_000;

function rsaKeys(): { privateKey: Forge.pki.rsa.PrivateKey; publicKey: Forge.pki.rsa.PublicKey; pem: string } {
    const { privateKey } = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const forgeKey = Forge.pki.privateKeyFromPem(pem) as Forge.pki.rsa.PrivateKey;
    return { privateKey: forgeKey, publicKey: Forge.pki.rsa.setPublicKey(forgeKey.n, forgeKey.e), pem };
}

function certificate(subject: Forge.pki.CertificateField[], publicKey: Forge.pki.PublicKey, issuer: Forge.pki.CertificateField[], extensions: any[]): Forge.pki.Certificate {
    const cert = Forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = `01${Crypto.randomBytes(8).toString('hex')}`;
    cert.validity.notBefore = new Date(Date.now() - dayMs);
    cert.validity.notAfter = new Date(Date.now() + 365 * dayMs);
    cert.setSubject(subject);
    cert.setIssuer(issuer);
    cert.setExtensions(extensions);
    return cert;
}

export class ThrowawayCa {
    private constructor(readonly pem: Pem, private readonly key: Forge.pki.rsa.PrivateKey, private readonly subject: Forge.pki.CertificateField[]) {}

    static create(name = 'wxshop simulator CA'): ThrowawayCa {
        const keys = rsaKeys();
        const subject = [{ name: 'commonName', value: name }];
        const cert = certificate(subject, keys.publicKey, subject, [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]);
        cert.sign(keys.privateKey, Forge.md.sha256.create());
        return new ThrowawayCa({ cert: Forge.pki.certificateToPem(cert), key: keys.pem }, keys.privateKey, subject);
    }

    static load(pem: Pem): ThrowawayCa {
        const cert = Forge.pki.certificateFromPem(pem.cert);
        return new ThrowawayCa(pem, Forge.pki.privateKeyFromPem(pem.key) as Forge.pki.rsa.PrivateKey, cert.subject.attributes as Forge.pki.CertificateField[]);
    }

    /** A TLS server certificate for 127.0.0.1 and localhost. */
    issueServer(): Pem {
        return this.issue([{ name: 'commonName', value: 'localhost' }], [
            { name: 'extKeyUsage', serverAuth: true },
            { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }
        ]);
    }

    /** The merchant's API client certificate. */
    issueMerchant(mchId: string): Pem {
        return this.issue([{ name: 'commonName', value: mchId }, { name: 'organizationalUnitName', value: 'wxshop simulated merchant' }], [
            { name: 'extKeyUsage', clientAuth: true }
        ]);
    }

    private issue(subject: Forge.pki.CertificateField[], extensions: any[]): Pem {
        const keys = rsaKeys();
        const cert = certificate(subject, keys.publicKey, this.subject, [{ name: 'basicConstraints', cA: false }, ...extensions]);
        cert.sign(this.key, Forge.md.sha256.create());
        return { cert: Forge.pki.certificateToPem(cert), key: keys.pem };
    }
}

/** The CA's certificate and a merchant client certificate issued by it, as files a merchant's config can name. */
export function writeTlsMaterial(folder: string, ca: ThrowawayCa, mchId: string): Record<'ca' | 'cert' | 'key', string> {
    const merchant = ca.issueMerchant(mchId);
    const files = { ca: Path.join(folder, 'ca.pem'), cert: Path.join(folder, 'apiclient_cert.pem'), key: Path.join(folder, 'apiclient_key.pem') };
    Fs.mkdirSync(folder, { recursive: true });
    Fs.writeFileSync(files.ca, ca.pem.cert);
    Fs.writeFileSync(files.cert, merchant.cert);
    Fs.writeFileSync(files.key, merchant.key, { mode: 0o600 });
    return files;
}
