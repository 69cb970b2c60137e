import type { Sequelize } from 'sequelize';

import type { Config } from '../config';
import type { AdjustableClock } from './clock';
import type { Models } from '../models';
import type { Merchant } from './orders/payments';
import type { RefundContext } from './refunds/context';
import type { OpsServices } from './shipping/services';
import type { LoginClient } from './wechat/login';
import type { PayV2Client } from './wechatpay/client';
import type { PayApiVersion } from '../config/pay-v3';
import type { PayV3Setup } from './orders/gateway';

/** Everything a route needs, built once per server by createServer. */
export interface AppContext {
    config: Config;
    sequelize: Sequelize;
    models: Models;
    login: LoginClient;
    pay: PayV2Client;
    /** WeChat Pay API v3, when v3 material is configured; the version new payments use (lib/orders/gateway.ts). */
    v3?: PayV3Setup;
    payApiVersion: PayApiVersion;
    merchant: Merchant;
    /** The money path's clock, shared with the simulator when it is mounted (so `/__sim/clock` moves both). */
    clock: AdjustableClock;
    /** Where WeChat sends payment notifications: WECHATPAY_NOTIFY_URL, or this server's own notify route. */
    notifyUrl: () => string;
    /** The refund service's own context (lib/refunds). */
    refunds: RefundContext;
    /** The shared access token and WeChat's server APIs (shipping management, subscribe messages). */
    ops: OpsServices;
}
