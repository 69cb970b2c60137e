import type { Config } from '../../../config';
import type { PayV3Setup } from '../../orders/gateway';
import { PayV3Client } from './client';

/** The v3 client for this server's v3 material (undefined without it); `baseUrl` as for the v2 client. */
export function payV3ClientFromConfig(config: Config, baseUrl: () => string, now?: () => number): PayV3Client | undefined {
    const material = config.v3.material;
    return material && new PayV3Client({
        appId: config.wechat.appId,
        mchId: config.pay.mchId,
        mchSerial: material.mchSerial,
        privateKey: material.mchPrivateKey,
        apiV3Key: material.apiV3Key,
        publicKey: material.publicKey,
        platformCerts: material.platformCerts,
        baseUrl,
        timeoutMs: config.pay.timeoutMs,
        now
    });
}

/**
 * The server's v3 side for the order gateway. WeChat calls v3 notifications at their own URLs: the v2 notify URL
 * (WECHATPAY_NOTIFY_URL, REFUND_NOTIFY_URL, or this server's own) with `/v3` appended.
 */
export function payV3SetupFromConfig(config: Config, baseUrl: () => string, now: () => number, serverUri: () => string): PayV3Setup | undefined {
    const client = payV3ClientFromConfig(config, baseUrl, now);
    return client && {
        client,
        notifyUrl: () => `${config.pay.notifyUrl ?? `${serverUri()}/orders/pay/notify`}/v3`,
        refundNotifyUrl: () => `${config.refunds.notifyUrl ?? `${serverUri()}/orders/refund/notify`}/v3`
    };
}
