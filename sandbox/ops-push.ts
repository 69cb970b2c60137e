import * as Crypto from 'crypto';

import axios from 'axios';

import { encryptPush, pushSignature } from '../lib/wechat/push-crypto';
import { toXml } from '../lib/wechatpay/xml';

import type { SimClock } from './clock';
import type { OpsSettings } from './ops-settings';
import type { Waits } from './waits';

/** Where and how WeChat pushes server events: the MP console's message-push settings (reference §3.1). */
export interface PushTarget {
    url: () => string;
    token: string;
    encodingAesKey?: string;
    mode: 'plaintext' | 'compatible' | 'safe';
    format: 'json' | 'xml';
    /** The mini-program's original id (`gh_…`), the ToUserName of every push. */
    originalId: string;
}

export interface PushRecord {
    event: string;
    transactionId?: string;
    attempt: number;
    at: string;
    outcome: 'success' | 'failed' | 'dropped';
    httpStatus?: number;
    reply?: string;
}

/**
 * Pushes events to the backend as WeChat does (reference §3.3–§3.7): signed query, the configured format, encrypted
 * in safe and compatible mode; a reply other than an empty body or `success` within the timeout is tried again, up
 * to `pushAttempts` in all. `dropNext` loses pushes; `duplicateNext` sends them twice.
 */
export class OpsPusher {
    readonly log: PushRecord[] = [];
    private drops = 0;
    private duplicates = 0;

    constructor(private readonly target: PushTarget | undefined, private readonly appId: string, private readonly clock: SimClock,
        private readonly settings: OpsSettings, private readonly waits: Waits) {}

    dropNext(times: number): void {
        this.drops += times;
    }

    duplicateNext(times: number): void {
        this.duplicates += times;
    }

    /** Delivers one event; resolves when it was answered `success`, given up on, or dropped. */
    async push(fields: Record<string, string | number>): Promise<void> {
        const event = String(fields.Event);
        const transactionId = fields.transaction_id as string | undefined;
        if (!this.target) {
            return;
        }

        if (this.drops > 0) {
            --this.drops;
            this.record({ event, transactionId, attempt: 1, outcome: 'dropped' });
            return;
        }

        const message = { ToUserName: this.target.originalId, FromUserName: 'o_sysopenid_00000000000000', CreateTime: Math.floor(this.clock.now() / 1000), MsgType: 'event', ...fields };
        const copies = this.duplicates > 0 ? (--this.duplicates, 2) : 1;
        for (let copy = 0; copy < copies; ++copy) {
            await this.deliver(message, event, transactionId);
        }
    }

    private async deliver(message: Record<string, string | number>, event: string, transactionId?: string): Promise<void> {
        const target = this.target!;
        const generation = this.waits.generation;
        for (let attempt = 1; attempt <= this.settings.pushAttempts && this.waits.generation === generation; ++attempt) {
            const { query, body } = this.envelope(message);
            const { controller, release } = this.waits.request();
            const timer = setTimeout(() => controller.abort(), this.settings.pushTimeoutMs);
            try {
                const response = await axios.post<string>(`${target.url()}?${new URLSearchParams(query)}`, body, {
                    headers: { 'content-type': target.format === 'xml' ? 'text/xml' : 'application/json' },
                    signal: controller.signal, responseType: 'text', transformResponse: [(data: string) => data],
                    validateStatus: () => true, maxRedirects: 0, proxy: false
                });
                const success = response.status === 200 && (response.data === '' || response.data === 'success');
                this.record({ event, transactionId, attempt, outcome: success ? 'success' : 'failed', httpStatus: response.status, reply: String(response.data).slice(0, 500) });
                if (success) {
                    return;
                }
            }
            catch (err) {
                this.record({ event, transactionId, attempt, outcome: 'failed', reply: (err as Error).message });
            }
            finally {
                clearTimeout(timer);
                release();
            }
        }
    }

    /** The query string and body of one delivery (each attempt is signed afresh). */
    envelope(message: Record<string, string | number>): { query: Record<string, string>; body: string } {
        const target = this.target!;
        const timestamp = String(Math.floor(this.clock.now() / 1000));
        const nonce = String(Crypto.randomInt(1e9, 1e10));
        const query: Record<string, string> = { signature: pushSignature(target.token, timestamp, nonce), timestamp, nonce };
        const plain = target.format === 'xml' ? toXml(message) : JSON.stringify(message);
        if (target.mode === 'plaintext') {
            return { query, body: plain };
        }

        const encrypt = encryptPush(target.encodingAesKey!, plain, this.appId);
        query.encrypt_type = 'aes';
        query.msg_signature = pushSignature(target.token, timestamp, nonce, encrypt);
        // Compatible mode sends the plaintext fields beside the ciphertext (reference §3.4).
        const envelope = target.mode === 'compatible' ? { ...message, Encrypt: encrypt } : { ToUserName: target.originalId, Encrypt: encrypt };
        return { query, body: target.format === 'xml' ? toXml(envelope) : JSON.stringify(envelope) };
    }

    private record(entry: Omit<PushRecord, 'at'>): void {
        this.log.push({ ...entry, at: new Date(this.clock.now()).toISOString() });
        if (this.log.length > 1000) {
            this.log.splice(0, this.log.length - 1000);
        }
    }
}
