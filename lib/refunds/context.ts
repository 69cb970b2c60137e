import type { Sequelize } from 'sequelize';

import type { RefundConfig } from '../../config/refunds';
import type { Clock } from '../clock';
import type { Merchant } from '../orders/payments';
import type { PayV2Client } from '../wechatpay/client';
import type { PayV3Setup } from '../orders/gateway';

/** What the refund service needs: the database, a Pay client presenting the merchant certificate, who we are. */
export interface RefundContext {
    sequelize: Sequelize;
    /** Its https agent carries the merchant API certificate (mutual TLS for /secapi/). */
    pay: PayV2Client;
    /** For the refunds of orders paid with API v3 (lib/refunds/gateway.ts). */
    v3?: PayV3Setup;
    merchant: Merchant;
    apiKey: string;
    /** The backend's clock (the simulator's too when it is mounted). */
    clock: Clock;
    config: RefundConfig;
    /** The refund notify_url sent to WeChat. */
    notifyUrl: () => string;
    log: (message: string) => void;
}

/** A refund the service refuses, with the HTTP status a route answers it with and a message for a person. */
export class RefundRefused extends Error {
    constructor(readonly statusCode: 400 | 404 | 409 | 503, message: string) {
        super(message);
        this.name = 'RefundRefused';
    }
}

/** WeChat allows 50 refunds per order (reference §2.8). */
export const maxRefundsPerOrder = 50;
