import * as Crypto from 'crypto';
import * as Http from 'http';
import * as Https from 'https';

import axios from 'axios';

import { encryptGcm } from '../lib/wechatpay/v3/aead';
import { formatRfc3339Beijing } from '../lib/wechatpay/v3/time';

import type { SimClock } from './clock';
import { officialSchedule } from './notifier';
import type { SandboxOptions, SandboxSettings } from './options';
import type { SignatureFault, WechatKeys } from './pay-v3-keys';
import type { V3Settings } from './pay-v3-options';
import type { Waits } from './waits';

/** API v3 notifications (reference §3.9, §3.10, §4): encrypted resource, signed per attempt, WeChat's retry schedule. */

export type V3NotifyFaultMode = 'drop' | 'duplicate' | 'delay' | SignatureFault;

export interface V3NotifyFault {
    mode: V3NotifyFaultMode;
    count?: number;
    delayMs?: number;
}

export interface V3Event {
    eventType: string;
    summary: string;
    originalType: 'transaction' | 'refund';
    resource: Record<string, unknown>;
    notifyUrl: string;
    /** What the log shows the event is about. */
    key: string;
}

export interface V3Delivery {
    id: string;
    eventType: string;
    key: string;
    attempt: number;
    at: string;
    /** Which key signed (public key id or platform serial). */
    serial?: string;
    outcome: 'success' | 'failed' | 'dropped';
    httpStatus?: number;
    reply?: string;
    error?: string;
}

export interface V3NotifierContext {
    options: SandboxOptions;
    settings: SandboxSettings;
    v3Settings: V3Settings;
    clock: SimClock;
    waits: Waits;
    keys: WechatKeys;
    apiV3Key: string;
}

const httpAgent = new Http.Agent({ keepAlive: false });
const httpsAgent = new Https.Agent({ keepAlive: false });
const logLimit = 1000;

export class V3Notifier {
    readonly log: V3Delivery[] = [];
    private readonly faults: V3NotifyFault[] = [];

    constructor(private readonly context: V3NotifierContext) {}

    armFault(fault: V3NotifyFault, times = 1): void {
        for (let i = 0; i < times; ++i) {
            this.faults.push(fault);
        }
    }

    /** The whole delivery of one event; resolves when it succeeded, gave up, or the simulator stopped. */
    async notify(event: V3Event): Promise<void> {
        const { waits, settings } = this.context;
        const generation = waits.generation;
        const id = `EV-${Crypto.randomUUID()}`;
        const fault = this.faults.shift();
        if (fault?.mode === 'drop') {
            this.record({ id, eventType: event.eventType, key: event.key, attempt: 1, outcome: 'dropped' });
            return;
        }

        if (fault?.mode === 'delay' && !await waits.sleep(fault.delayMs ?? 0)) {
            return;
        }

        const body = this.envelope(id, event);
        const schedule = this.context.options.notifySchedule ?? officialSchedule;
        for (let attempt = 1; ; ++attempt) {
            const copies = attempt === 1 && fault?.mode === 'duplicate' ? fault.count ?? 3 : 1;
            // Only the first attempt carries a signature fault: WeChat's probes and glitches are one-offs.
            const signatureFault = attempt === 1 && fault && fault.mode !== 'duplicate' && fault.mode !== 'delay' ? fault.mode as SignatureFault : undefined;
            const results = await Promise.all(Array.from({ length: copies }, () => this.deliver(id, event, body, attempt, generation, signatureFault)));
            if (results.includes(true) || attempt > schedule.length || waits.generation !== generation) {
                return;
            }

            if (!await waits.sleep(schedule[attempt - 1] * settings.msPerScheduleSecond)) {
                return;
            }
        }
    }

    private envelope(id: string, event: V3Event): string {
        const nonce = Crypto.randomBytes(6).toString('hex');
        const plaintext = JSON.stringify(event.resource);
        return JSON.stringify({
            id,
            create_time: formatRfc3339Beijing(new Date(this.context.clock.now())),
            resource_type: 'encrypt-resource',
            event_type: event.eventType,
            summary: event.summary,
            resource: {
                original_type: event.originalType,
                algorithm: 'AEAD_AES_256_GCM',
                ciphertext: encryptGcm(plaintext, this.context.apiV3Key, nonce, event.originalType),
                associated_data: event.originalType,
                nonce
            }
        });
    }

    /** Callbacks follow the mode; during the switch-over a share of them is signed with the public key. */
    private callbackSerial(): string {
        const { v3Settings, keys } = this.context;
        const publicKey = v3Settings.mode === 'publicKey' || v3Settings.mode === 'switch' && Math.random() < v3Settings.callbackPublicKeyShare;
        return publicKey ? keys.publicKey.id : keys.newestPlatform.serial;
    }

    private async deliver(id: string, event: V3Event, body: string, attempt: number, generation: number, fault: SignatureFault | undefined): Promise<boolean> {
        const { waits, clock, options, keys } = this.context;
        const at = new Date(clock.now()).toISOString();
        const serial = this.callbackSerial();
        // The timestamp is new on every attempt (reference §3.3).
        const signature = keys.signHeaders(serial, body, clock.now(), fault);
        const timeoutMs = options.notifyTimeoutMs ?? 5000;
        const { controller, release } = waits.request();
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            controller.abort();
        }, timeoutMs);
        const entry = { id, eventType: event.eventType, key: event.key, attempt, at, serial: signature['Wechatpay-Serial'] };
        try {
            const response = await axios.post<string>(event.notifyUrl, body, {
                headers: { 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/4.0', Accept: '*/*', Pragma: 'no-cache', ...signature },
                signal: controller.signal,
                responseType: 'text',
                transformResponse: [(data: string) => data],
                validateStatus: () => true,
                maxRedirects: 0,
                maxContentLength: 64 * 1024,
                proxy: false,
                httpAgent,
                httpsAgent
            });
            // The status alone decides (200 or 204); a 200 whose body says FAIL still counts as received.
            const success = response.status === 200 || response.status === 204;
            this.record({ ...entry, outcome: success ? 'success' : 'failed', httpStatus: response.status, reply: String(response.data ?? '').slice(0, 1000) });
            return success;
        }
        catch (err) {
            if (waits.generation === generation) {
                this.record({ ...entry, outcome: 'failed', error: timedOut ? `no reply within ${timeoutMs} ms` : (err as Error).message });
            }

            return false;
        }
        finally {
            clearTimeout(timer);
            release();
        }
    }

    private record(entry: Omit<V3Delivery, 'at'> & { at?: string }): void {
        this.log.push({ at: new Date(this.context.clock.now()).toISOString(), ...entry });
        if (this.log.length > logLimit) {
            this.log.splice(0, this.log.length - logLimit);
        }
    }
}
