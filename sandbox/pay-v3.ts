import * as Crypto from 'crypto';

import type { Plugin } from '@hapi/hapi';

import type { SimClock } from './clock';
import type { SandboxOptions, SandboxSettings } from './options';
import type { V3Fault } from './pay-v3-envelope';
import { payV3Hooks, PayV3HooksContext } from './pay-v3-hooks';
import { WechatKeys } from './pay-v3-keys';
import { V3Notifier } from './pay-v3-notifier';
import { initialV3Settings, SandboxV3Options, V3Settings } from './pay-v3-options';
import { payV3Routes } from './pay-v3-routes';
import { V3Trades } from './pay-v3-trades';
import type { Trades } from './trades';
import type { Waits } from './waits';

export type { SandboxV3Options, V3Settings, MerchantMode } from './pay-v3-options';

export interface SandboxV3Shared {
    options: SandboxOptions;
    settings: SandboxSettings;
    clock: SimClock;
    waits: Waits;
    trades: Trades;
}

const asPublicKey = (key: Crypto.KeyObject | string) => typeof key === 'string' ? Crypto.createPublicKey(key) : key.type === 'private' ? Crypto.createPublicKey(key) : key;

/**
 * WeChat Pay API v3 for the simulator's merchant: its endpoints, the phone paying a v3 order, and `/__sim/v3/` hooks.
 * Registered by the Sandbox when its options carry `v3`.
 */
export class SandboxV3 {
    readonly keys: WechatKeys;
    readonly trades: V3Trades;
    readonly settings: V3Settings;
    readonly notifier: V3Notifier;
    readonly plugin: Plugin<void>;
    private readonly faults = new Map<string, V3Fault[]>();

    constructor(shared: SandboxV3Shared, v3: SandboxV3Options) {
        const privateKey = v3.wechatpayPrivateKey === undefined ? undefined
            : typeof v3.wechatpayPrivateKey === 'string' ? Crypto.createPrivateKey(v3.wechatpayPrivateKey) : v3.wechatpayPrivateKey;
        this.keys = new WechatKeys(shared.clock.now(), privateKey, v3.publicKeyId);
        this.trades = new V3Trades(shared.clock);
        this.settings = initialV3Settings(v3);
        this.notifier = new V3Notifier({ ...shared, v3Settings: this.settings, keys: this.keys, apiV3Key: v3.apiV3Key });
        const context: PayV3HooksContext = {
            ...shared,
            keys: this.keys,
            merchant: { mchId: shared.options.mchId, serial: v3.merchantSerial, publicKey: asPublicKey(v3.merchantPublicKey), apiV3Key: v3.apiV3Key },
            v3Settings: this.settings,
            v3Trades: this.trades,
            v3Notifier: this.notifier,
            refundNotifyUrl: v3.refundNotifyUrl,
            takeFault: (endpoint) => this.faults.get(endpoint)?.shift(),
            armFault: (endpoint, fault, times) => {
                const queue = this.faults.get(endpoint) ?? [];
                queue.push(...Array.from({ length: times }, () => fault));
                this.faults.set(endpoint, queue);
            }
        };
        this.plugin = {
            name: 'wxshop-sandbox-v3',
            register: async (server) => {
                await server.register([{ plugin: payV3Routes, options: context }, { plugin: payV3Hooks, options: context }]);
            }
        };
    }
}
