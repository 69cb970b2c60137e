import * as Crypto from 'crypto';

import { Credentials, PaidTradeFacts, signedNotification } from './process/harness';
import type { TestApp } from './helpers';

/** The app's own merchant credentials, as signedNotification takes them. */
export function merchantOf(app: TestApp): Credentials {
    return { appId: app.config.wechat.appId, appSecret: app.config.wechat.secret, mchId: app.config.pay.mchId, apiKey: app.config.pay.apiKey, jwtSecret: app.config.jwt.secret };
}

/** A transaction_id of WeChat's shape (28 digits), random. */
export function newTransactionId(): string {
    return `4200${Array.from(Crypto.randomBytes(24), (byte) => byte % 10).join('')}`;
}

/** POST /orders/pay/notify with a payment notification signed as WeChat signs it, by `merchant` (the app's own by default). */
export function notifyPaid(app: TestApp, trade: Omit<PaidTradeFacts, 'openid'> & { openid?: string }, merchant: Credentials = merchantOf(app)) {
    return app.server.inject({
        method: 'POST', url: '/orders/pay/notify', headers: { 'content-type': 'text/xml' },
        payload: signedNotification(merchant, { openid: 'o-test-payer', ...trade })
    });
}
