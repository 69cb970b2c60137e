import type * as Crypto from 'crypto';

/** API v3 for the simulator's merchant (reference §3.4): what the merchant registered, and the run-time knobs. */

export type MerchantMode = 'platform' | 'publicKey' | 'switch';

export interface SandboxV3Options {
    apiV3Key: string;
    /** The merchant API certificate's serial and public key, to check Authorization and paySign. */
    merchantSerial: string;
    merchantPublicKey: Crypto.KeyObject | string;
    /** Default `publicKey`, what a merchant registered since late 2024 gets. */
    mode?: MerchantMode;
    /** The private half of the merchant's WECHATPAY_PUBLIC_KEY (SANDBOX_WECHATPAY_PRIVATE_KEY) and its id. */
    wechatpayPrivateKey?: Crypto.KeyObject | string;
    publicKeyId?: string;
    /** Where refund notifications go when a refund request names no notify_url (the platform setting). */
    refundNotifyUrl?: string;
}

/** `POST /__sim/v3/settings`: every rule on by default, as WeChat has it. */
export interface V3Settings {
    mode: MerchantMode;
    /** Least time between two refunds of one trade (reference §3.10: 1 minute). */
    refundIntervalSeconds: number;
    /** Refunds settle SUCCESS by themselves this many schedule seconds after they are accepted; false: only by the hook. */
    autoSettleRefunds: boolean;
    refundDelaySeconds: number;
    /** During the switch-over, the share of callbacks signed with the public key (WeChat raises it daily to 1). */
    callbackPublicKeyShare: number;
}

export function initialV3Settings(options: SandboxV3Options): V3Settings {
    return { mode: options.mode ?? 'publicKey', refundIntervalSeconds: 60, autoSettleRefunds: true, refundDelaySeconds: 5, callbackPublicKeyShare: 0.5 };
}
