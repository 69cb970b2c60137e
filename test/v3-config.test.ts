import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { ConfigError, loadConfig } from '../config';
import { credentialsEnv } from './helpers';
import { randomApiV3Key, randomSerial } from './v3-helpers';

const { expect } = Code;
const { describe, it, before } = exports.lab = Lab.script();

type Env = Record<string, string | undefined>;

let dataDir: string;
let privatePem: string;
let publicPem: string;
const publicKeyId = 'PUB_KEY_ID_0112860886012025062700111588000000';

function env(overrides: Env = {}): Env {
    return {
        NODE_ENV: 'test',
        ...credentialsEnv(),
        JWT_SECRET: Crypto.randomBytes(32).toString('hex'),
        DATA_DIR: dataDir,
        WECHATPAY_APIV3_KEY: randomApiV3Key(),
        WECHATPAY_MCH_SERIAL: randomSerial(),
        WECHATPAY_MCH_PRIVATE_KEY: privatePem,
        WECHATPAY_PUBLIC_KEY_ID: publicKeyId,
        WECHATPAY_PUBLIC_KEY: publicPem,
        ...overrides
    };
}

function problemsOf(environment: Env): string[] {
    try {
        loadConfig(environment);
    }
    catch (err) {
        expect(err).to.be.an.instanceof(ConfigError);
        return (err as ConfigError).problems;
    }

    throw new Error('the configuration was accepted');
}

describe('config: WeChat Pay API v3', () => {

    before(() => {
        dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-v3-config-'));
        const pair = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
        publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    });

    it('without v3 material new payments use v2', () => {
        const config = loadConfig(env({ WECHATPAY_APIV3_KEY: undefined, WECHATPAY_MCH_SERIAL: undefined, WECHATPAY_MCH_PRIVATE_KEY: undefined, WECHATPAY_PUBLIC_KEY_ID: undefined, WECHATPAY_PUBLIC_KEY: undefined }));
        expect(config.v3).to.equal({ apiVersion: 'v2', material: undefined });
    });

    it('public-key mode: v3 by default, keys parsed from PEM text, the serial upper-cased', () => {
        const serial = randomSerial().toLowerCase();
        const config = loadConfig(env({ WECHATPAY_MCH_SERIAL: serial }));
        expect(config.v3.apiVersion).to.equal('v3');
        const material = config.v3.material!;
        expect(material.mchSerial).to.equal(serial.toUpperCase());
        expect(material.platformCerts).to.be.false();
        expect(material.publicKey!.id).to.equal(publicKeyId);
        expect(material.publicKey!.key.type).to.equal('public');
        expect(material.mchPrivateKey.type).to.equal('private');
        // KeyObjects: no key text ends up in a log line that prints the config.
        expect(JSON.stringify(config)).to.not.contain('PRIVATE KEY');
    });

    it('keys may be given as file paths; WECHATPAY_API_VERSION=v2 keeps new payments on v2', () => {
        const keyFile = Path.join(dataDir, 'apiclient_key.pem');
        const pubFile = Path.join(dataDir, 'pub_key.pem');
        Fs.writeFileSync(keyFile, privatePem);
        Fs.writeFileSync(pubFile, publicPem);
        const config = loadConfig(env({ WECHATPAY_MCH_PRIVATE_KEY: keyFile, WECHATPAY_PUBLIC_KEY: pubFile, WECHATPAY_API_VERSION: 'v2' }));
        expect(config.v3.apiVersion).to.equal('v2');
        expect(config.v3.material!.publicKey!.key.export({ type: 'spki', format: 'pem' })).to.equal(publicPem);
    });

    it('platform-certificate mode, and both at once for the switch-over', () => {
        const platform = loadConfig(env({ WECHATPAY_PUBLIC_KEY_ID: undefined, WECHATPAY_PUBLIC_KEY: undefined, WECHATPAY_PLATFORM_CERTS: 'true' })).v3.material!;
        expect(platform.platformCerts).to.be.true();
        expect(platform.publicKey).to.be.undefined();
        const both = loadConfig(env({ WECHATPAY_PLATFORM_CERTS: 'true' })).v3.material!;
        expect(both.platformCerts).to.be.true();
        expect(both.publicKey!.id).to.equal(publicKeyId);
    });

    it('every bad value stops the start with a message naming its variable', () => {
        const cases: [Env, RegExp][] = [
            [{ WECHATPAY_API_VERSION: 'v4' }, /^WECHATPAY_API_VERSION must be v2 or v3/],
            [{ WECHATPAY_APIV3_KEY: 'short' }, /^WECHATPAY_APIV3_KEY must be the 32-character/],
            [{ WECHATPAY_APIV3_KEY: undefined }, /^WECHATPAY_APIV3_KEY is required/],
            [{ WECHATPAY_MCH_SERIAL: undefined }, /^WECHATPAY_MCH_SERIAL is required/],
            [{ WECHATPAY_MCH_SERIAL: '123456789012345678901234567890123456789012' }, /^WECHATPAY_MCH_SERIAL must be the merchant API certificate serial in hex/],
            [{ WECHATPAY_MCH_SERIAL: 'ZZZZ1234ZZZZ' }, /^WECHATPAY_MCH_SERIAL must be/],
            [{ WECHATPAY_MCH_PRIVATE_KEY: undefined }, /^WECHATPAY_MCH_PRIVATE_KEY is required/],
            [{ WECHATPAY_MCH_PRIVATE_KEY: '/nonexistent/apiclient_key.pem' }, /^WECHATPAY_MCH_PRIVATE_KEY is neither PEM text nor a readable file \(ENOENT\)/],
            [{ WECHATPAY_MCH_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }, /^WECHATPAY_MCH_PRIVATE_KEY is not a valid PEM private key/],
            [{ WECHATPAY_MCH_PRIVATE_KEY: publicPemOf() }, /^WECHATPAY_MCH_PRIVATE_KEY is not a valid PEM private key/],
            [{ WECHATPAY_PUBLIC_KEY: undefined }, /^WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY go together/],
            [{ WECHATPAY_PUBLIC_KEY_ID: 'D7CE59D1F522D701' }, /^WECHATPAY_PUBLIC_KEY_ID must look like PUB_KEY_ID_/],
            [{ WECHATPAY_PUBLIC_KEY: 'nonsense-----BEGIN' }, /^WECHATPAY_PUBLIC_KEY is not a valid PEM public key/],
            [{ WECHATPAY_PUBLIC_KEY_ID: undefined, WECHATPAY_PUBLIC_KEY: undefined }, /^WeChat Pay API v3 needs WECHATPAY_PUBLIC_KEY_ID with WECHATPAY_PUBLIC_KEY, or WECHATPAY_PLATFORM_CERTS=true/],
            [{ WECHATPAY_PLATFORM_CERTS: 'yes' }, /^WECHATPAY_PLATFORM_CERTS must be true or false/],
            [{ WECHATPAY_APIV3_KEY: undefined, WECHATPAY_MCH_SERIAL: undefined, WECHATPAY_MCH_PRIVATE_KEY: undefined, WECHATPAY_PUBLIC_KEY_ID: undefined, WECHATPAY_PUBLIC_KEY: undefined, WECHATPAY_API_VERSION: 'v3' }, /^WECHATPAY_API_VERSION=v3 needs WECHATPAY_APIV3_KEY/]
        ];
        for (const [overrides, expected] of cases) {
            const problems = problemsOf(env(overrides));
            expect(problems.some((problem) => expected.test(problem)), `${JSON.stringify(overrides).slice(0, 80)}: ${problems.join(' | ')}`).to.be.true();
        }
    });

    it('SANDBOX_WECHATPAY_PRIVATE_KEY: required by the mounted simulator in public-key mode, the private half of WECHATPAY_PUBLIC_KEY, never in production', () => {
        expect(problemsOf(env({ SANDBOX: 'true' }))).to.include('SANDBOX_WECHATPAY_PRIVATE_KEY is required with SANDBOX=true and WECHATPAY_PUBLIC_KEY: the simulator signs as WeChat with the private half');
        const other = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
        expect(problemsOf(env({ SANDBOX: 'true', SANDBOX_WECHATPAY_PRIVATE_KEY: other }))).to.include('SANDBOX_WECHATPAY_PRIVATE_KEY must be the private half of WECHATPAY_PUBLIC_KEY');
        expect(problemsOf(env({ NODE_ENV: 'production', SANDBOX_WECHATPAY_PRIVATE_KEY: privatePem }))).to.include('SANDBOX_WECHATPAY_PRIVATE_KEY is for the simulator only and not allowed with NODE_ENV=production');
        const material = loadConfig(env({ SANDBOX: 'true', SANDBOX_WECHATPAY_PRIVATE_KEY: privatePem })).v3.material!;
        expect(material.sandboxWechatpayPrivateKey!.type).to.equal('private');
        // Platform-certificate mode needs none: the simulator makes its own certificates.
        expect(loadConfig(env({ SANDBOX: 'true', WECHATPAY_PUBLIC_KEY_ID: undefined, WECHATPAY_PUBLIC_KEY: undefined, WECHATPAY_PLATFORM_CERTS: 'true' })).v3.material!.platformCerts).to.be.true();
    });

    it('a key shorter than 2048 bits or not RSA is refused', () => {
        const small = Crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
        expect(problemsOf(env({ WECHATPAY_MCH_PRIVATE_KEY: small }))).to.include('WECHATPAY_MCH_PRIVATE_KEY must be an RSA key of at least 2048 bits');
        const ec = Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
        expect(problemsOf(env({ WECHATPAY_PUBLIC_KEY: ec }))).to.include('WECHATPAY_PUBLIC_KEY must be an RSA key of at least 2048 bits');
    });
});

function publicPemOf(): string {
    return publicPem;
}
