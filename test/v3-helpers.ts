import * as Crypto from 'crypto';

import * as Hapi from '@hapi/hapi';

import { PayV3Client, PayV3ClientOptions } from '../lib/wechatpay/v3/client';
import type { Sandbox, SandboxOptions } from '../sandbox';
import type { SandboxV3Options } from '../sandbox/pay-v3';
import type { MerchantMode } from '../sandbox/pay-v3';
import { startSandboxServer } from '../sandbox/server';
import { sandboxCredentials } from './helpers';

/** A merchant with random v2 and v3 material, and the simulator on a real port that knows exactly that merchant. */
export interface V3World {
    server: Hapi.Server;
    sandbox: Sandbox;
    base: string;
    appId: string;
    mchId: string;
    apiV3Key: string;
    mchSerial: string;
    mchPrivateKey: Crypto.KeyObject;
    /** What `GET /__sim/v3/keys` exports, as KeyObjects. */
    publicKeyId: string;
    publicKey: Crypto.KeyObject;
    client(mode: MerchantMode, overrides?: Partial<PayV3ClientOptions>): PayV3Client;
    stop(): Promise<void>;
}

export function randomApiV3Key(): string {
    return Crypto.randomBytes(16).toString('hex');
}

export function randomSerial(): string {
    return Crypto.randomBytes(20).toString('hex').toUpperCase();
}

export async function startV3World(mode: MerchantMode = 'publicKey', extra: Partial<SandboxOptions> = {}, extraV3: Partial<SandboxV3Options> = {}): Promise<V3World> {
    const credentials = sandboxCredentials();
    const apiV3Key = randomApiV3Key();
    const mchSerial = randomSerial();
    const mchPrivateKey = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { server, sandbox } = await startSandboxServer({
        ...credentials,
        msPerScheduleSecond: 1,
        ...extra,
        v3: { apiV3Key, merchantSerial: mchSerial, merchantPublicKey: Crypto.createPublicKey(mchPrivateKey), mode, ...extraV3 }
    });
    const v3 = sandbox.v3!;
    const publicKey = Crypto.createPublicKey(v3.keys.publicKey.privateKey);
    const base = server.info.uri;
    return {
        server,
        sandbox,
        base,
        appId: credentials.appId,
        mchId: credentials.mchId,
        apiV3Key,
        mchSerial,
        mchPrivateKey,
        publicKeyId: v3.keys.publicKey.id,
        publicKey,
        client: (clientMode, overrides = {}) => new PayV3Client({
            appId: credentials.appId,
            mchId: credentials.mchId,
            mchSerial,
            privateKey: mchPrivateKey,
            apiV3Key,
            publicKey: clientMode === 'platform' ? undefined : { id: v3.keys.publicKey.id, key: publicKey },
            platformCerts: clientMode !== 'publicKey',
            baseUrl: () => base,
            timeoutMs: 2000,
            attempts: 2,
            // The simulator's clock, which some tests move forward: the client and WeChat agree on the time.
            now: () => sandbox.clock.now(),
            ...overrides
        }),
        stop: async () => {
            await server.stop({ timeout: 100 });
        }
    };
}

let sequence = 0;
export function tradeNo(): string {
    return `V3T${Date.now()}${++sequence}${Crypto.randomBytes(3).toString('hex')}`;
}

/** The merchant's notify_url: records raw bodies and headers, answers as told (default 204). */
export class V3Receiver {
    readonly server = Hapi.server({ port: 0, host: '127.0.0.1' });
    readonly received: { headers: Record<string, unknown>; body: Buffer }[] = [];
    answer: (entry: { headers: Record<string, unknown>; body: Buffer }) => Promise<{ status: number; body?: unknown }> | { status: number; body?: unknown } = () => ({ status: 204 });

    async start(): Promise<string> {
        this.server.route({
            method: 'POST',
            path: '/notify',
            options: { payload: { parse: false, output: 'data' } },
            handler: async (request, h) => {
                const entry = { headers: request.headers, body: request.payload as Buffer };
                this.received.push(entry);
                const { status, body } = await this.answer(entry);
                return body === undefined ? h.response().code(status) : h.response(body as object).code(status);
            }
        });
        await this.server.start();
        return `${this.server.info.uri}/notify`;
    }
}
