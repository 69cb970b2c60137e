import type { SignType } from '../lib/wechatpay/sign';

import type { PushTarget } from './ops-push';
import type { SandboxV3Options } from './pay-v3-options';

export interface SandboxCredentials {
    appId: string;
    appSecret: string;
    mchId: string;
    /** The merchant's API v2 key. */
    apiKey: string;
}

export interface SandboxOptions extends SandboxCredentials {
    /** Send api.weixin.qq.com JSON as text/plain, as WeChat does (default true). */
    plainTextJson?: boolean;
    /** How many milliseconds of wall time one second of WeChat's notify retry schedule takes (default 1000). */
    msPerScheduleSecond?: number;
    /** Notify retry schedule in seconds; default: the current official one (reference §2.7). */
    notifySchedule?: number[];
    /** Sign type WeChat uses for notifications when the order did not say (default MD5). */
    defaultSignType?: SignType;
    /** Timeout for one notification delivery (default 5000 ms, as WeChat). */
    notifyTimeoutMs?: number;
    /** closeorder is refused this many minutes after unifiedorder (reference §2.6); default 5, as WeChat; 0 is off. */
    closeGuardMinutes?: number;
    /** The merchant's API v3 material; without it the simulator serves v2 only. */
    v3?: SandboxV3Options;
    /** Where and how the trade-management events are pushed (the MP console's message-push settings); none: not pushed. */
    push?: PushTarget;
}

/** The knobs `POST /__sim/settings` can turn while the simulator runs. */
export interface SandboxSettings {
    plainTextJson: boolean;
    msPerScheduleSecond: number;
    /** WeChat's rules, on by default (reference §2.3, §2.4, §2.6); a test turns one off by name. */
    closeGuardMinutes: number;
    /** A first unifiedorder whose time_expire is less than this far ahead is refused ("time_expire时间过短"). */
    timeExpireMinMinutes: number;
    /** The phone's pay checks paySign with the other wx.requestPayment fields (off: a prepayId alone pays). */
    requirePaySign: boolean;
    /** WeChat's quirks, off by default: closeorder succeeds but the trade stays payable this long. */
    closeLagMs: number;
    /** ...and a trade can still be paid this long after its time_expire. */
    payAfterExpireMs: number;
    /** Refunds of one trade at least this many seconds apart (WeChat: 1 minute); 0 is off. */
    refundSpacingSeconds: number;
    /** Wall milliseconds an accepted refund stays PROCESSING before its outcome and notification. */
    refundProcessingMs: number;
}

export function initialSettings(options: SandboxOptions): SandboxSettings {
    return {
        plainTextJson: options.plainTextJson ?? true,
        msPerScheduleSecond: options.msPerScheduleSecond ?? 1000,
        closeGuardMinutes: options.closeGuardMinutes ?? 5,
        timeExpireMinMinutes: 5,
        requirePaySign: true,
        closeLagMs: 0,
        payAfterExpireMs: 0,
        refundSpacingSeconds: 60,
        refundProcessingMs: 50
    };
}
