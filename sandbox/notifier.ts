import * as Http from 'http';
import * as Https from 'https';

import axios from 'axios';

import type { Params, SignType } from '../lib/wechatpay/sign';
import { formatBeijingCompact } from '../lib/wechatpay/time';
import { parseFlatXml, toXml } from '../lib/wechatpay/xml';

import type { SimClock } from './clock';
import * as Ids from './ids';
import type { SandboxOptions, SandboxSettings } from './options';
import type { Trade } from './trades';
import { signAnswer } from './v2-envelope';
import type { Waits } from './waits';

/** Seconds between attempts, current official text: 15 retries over 24h4m (reference §2.7). */
export const officialSchedule = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

/** The older v2 text: 15/15/30/180/1800×4/3600. */
export const legacySchedule = [15, 15, 30, 180, 1800, 1800, 1800, 1800, 3600];

export type NotifyFaultMode = 'drop' | 'duplicate' | 'delay' | 'badsign' | 'md5';

export interface NotifyFault {
    mode: NotifyFaultMode;
    /** `duplicate`: how many copies the first attempt sends at once (default 3). */
    count?: number;
    /** `delay` (required there): wall milliseconds before the first attempt. */
    delayMs?: number;
}

/** Where a notification goes and what the log files it under. */
export interface NotifyTarget {
    notifyUrl: string;
    outTradeNo: string;
    transactionId?: string;
    /** Set for refund notifications. */
    outRefundNo?: string;
}

export interface Delivery {
    outTradeNo: string;
    transactionId: string;
    outRefundNo?: string;
    attempt: number;
    /** Simulator time of the attempt, ISO 8601. */
    at: string;
    outcome: 'success' | 'failed' | 'dropped';
    httpStatus?: number;
    /** The merchant's reply body (first 1000 characters). */
    reply?: string;
    /** Why no reply was read: a timeout, a refused connection... */
    error?: string;
}

export interface NotifierContext {
    options: SandboxOptions;
    settings: SandboxSettings;
    clock: SimClock;
    waits: Waits;
}

const logLimit = 1000;

// One connection per delivery, as a fresh WeChat caller would make; nothing pooled outlives the simulator.
const httpAgent = new Http.Agent({ keepAlive: false });
const httpsAgent = new Https.Agent({ keepAlive: false });

/** Delivers pay-result notifications to the merchant's notify_url, retrying on WeChat's schedule (reference §2.7, §4). */
export class Notifier {
    readonly log: Delivery[] = [];
    private readonly faults: NotifyFault[] = [];

    constructor(private readonly context: NotifierContext) {}

    armFault(fault: NotifyFault, times = 1): void {
        for (let i = 0; i < times; ++i) {
            this.faults.push(fault);
        }
    }

    /** Runs the whole delivery of one notification; resolves when it succeeded, gave up, or the simulator stopped. */
    async notify(trade: Trade): Promise<void> {
        const fault = this.faults.shift();
        await this.send(trade, fault, () => this.message(trade, fault));
    }

    /**
     * Delivers one notification body to `target.notifyUrl` on WeChat's retry schedule (reference §2.7): the pay
     * notification above and the refund notification (sandbox/refunds.ts) alike. `fault` drops, delays or duplicates it.
     */
    async send(target: NotifyTarget, fault: NotifyFault | undefined, makeBody: () => string): Promise<void> {
        const { waits, settings } = this.context;
        const generation = waits.generation;
        if (fault?.mode === 'drop') {
            this.record(target, 1, { outcome: 'dropped' });
            return;
        }

        if (fault?.mode === 'delay' && !await waits.sleep(fault.delayMs!)) {
            return;
        }

        const body = makeBody();
        const schedule = this.context.options.notifySchedule ?? officialSchedule;
        for (let attempt = 1; ; ++attempt) {
            const copies = attempt === 1 && fault?.mode === 'duplicate' ? fault.count ?? 3 : 1;
            const results = await Promise.all(Array.from({ length: copies }, () => this.deliver(target, body, attempt, generation)));
            if (results.includes(true) || attempt > schedule.length || waits.generation !== generation) {
                return;
            }

            if (!await waits.sleep(schedule[attempt - 1] * settings.msPerScheduleSecond)) {
                return;
            }
        }
    }

    /** The notify XML of §2.7, signed with the order's sign_type; `<sign_type>` is sent only for HMAC-SHA256. */
    message(trade: Trade, fault?: NotifyFault): string {
        const { options } = this.context;
        const orderSignType = trade.signTypeGiven ? trade.signType : options.defaultSignType ?? 'MD5';
        const signType: SignType = fault?.mode === 'md5' ? 'MD5' : orderSignType;
        const fields: Params = {
            appid: trade.appid,
            attach: trade.attach,
            bank_type: trade.bankType,
            cash_fee: trade.totalFee,
            device_info: trade.deviceInfo,
            fee_type: trade.feeType,
            is_subscribe: 'N',
            mch_id: trade.mchId,
            nonce_str: Ids.nonce(),
            openid: trade.payer,
            out_trade_no: trade.outTradeNo,
            result_code: 'SUCCESS',
            return_code: 'SUCCESS',
            sign_type: signType === 'HMAC-SHA256' ? signType : undefined,
            time_end: formatBeijingCompact(new Date(trade.paidAt!)),
            total_fee: trade.totalFee,
            trade_type: trade.tradeType,
            transaction_id: trade.transactionId
        };
        return toXml(signAnswer(fields, options.apiKey, signType, fault?.mode === 'badsign'));
    }

    private async deliver(trade: NotifyTarget, body: string, attempt: number, generation: number): Promise<boolean> {
        const { waits, clock, options } = this.context;
        const at = new Date(clock.now()).toISOString();
        const timeoutMs = options.notifyTimeoutMs ?? 5000;
        const { controller, release } = waits.request();
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            controller.abort();
        }, timeoutMs);

        try {
            const response = await axios.post<string>(trade.notifyUrl, body, {
                headers: { 'Content-Type': 'text/xml', 'User-Agent': 'Mozilla/4.0', Accept: '*/*', Pragma: 'no-cache' },
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
            const reply = response.data;
            const success = response.status === 200 && await repliedSuccess(reply);
            this.record(trade, attempt, { at, outcome: success ? 'success' : 'failed', httpStatus: response.status, reply: reply.slice(0, 1000) });
            return success;
        }
        catch (err) {
            if (waits.generation === generation) {
                this.record(trade, attempt, { at, outcome: 'failed', error: timedOut ? `no reply within ${timeoutMs} ms` : (err as Error).message });
            }

            return false;
        }
        finally {
            clearTimeout(timer);
            release();
        }
    }

    private record(trade: NotifyTarget, attempt: number, entry: Partial<Delivery> & Pick<Delivery, 'outcome'>): void {
        this.log.push({
            outTradeNo: trade.outTradeNo,
            transactionId: trade.transactionId!,
            ...(trade.outRefundNo ? { outRefundNo: trade.outRefundNo } : {}),
            attempt,
            at: new Date(this.context.clock.now()).toISOString(),
            ...entry
        });
        if (this.log.length > logLimit) {
            this.log.splice(0, this.log.length - logLimit);
        }
    }
}

/** Strict, as reference §2.7 asks: the reply must be XML whose return_code is SUCCESS. */
async function repliedSuccess(reply: string): Promise<boolean> {
    try {
        return (await parseFlatXml(reply)).return_code === 'SUCCESS';
    }
    catch {
        return false;
    }
}
