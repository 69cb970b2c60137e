/**
 * POST /orders/pay/notify/v3: the notify scenario (notify.ts) with WeChat Pay v3 notifications: each a
 * TRANSACTION.SUCCESS JSON body with its resource AEAD_AES_256_GCM-encrypted with the APIv3 key and signed
 * RSA-SHA256 with the key the mounted simulator signs with (public-key mode). Same orders, same driver baseline,
 * same checks; success is 204.
 */
import * as Crypto from 'crypto';

import { encryptGcm } from '../../lib/wechatpay/v3/aead';
import { responseMessage, rsaSign } from '../../lib/wechatpay/v3/signature';
import { formatRfc3339Beijing } from '../../lib/wechatpay/v3/time';
import { parseBeijingCompact } from '../../lib/wechatpay/time';
import { notifyScenarioOf } from './notify';
import type { BenchContext, ScenarioResult } from './types';

export function notifyV3Scenario(context: BenchContext): Promise<ScenarioResult> {
    const { env } = context.app;
    const apiV3Key = env.WECHATPAY_APIV3_KEY!;
    const signingKey = Crypto.createPrivateKey(env.SANDBOX_WECHATPAY_PRIVATE_KEY!);
    const serial = env.WECHATPAY_PUBLIC_KEY_ID!;
    return notifyScenarioOf(context, {
        name: 'notify-v3',
        tag: 'N3',
        path: '/orders/pay/notify/v3',
        request(fields) {
            const resource = JSON.stringify({
                appid: fields.appid, mchid: fields.mch_id, out_trade_no: fields.out_trade_no, transaction_id: fields.transaction_id,
                trade_type: 'JSAPI', trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS',
                success_time: formatRfc3339Beijing(parseBeijingCompact(fields.time_end)!),
                payer: { openid: fields.openid }, amount: { total: Number(fields.total_fee), payer_total: Number(fields.total_fee), currency: 'CNY', payer_currency: 'CNY' }
            });
            const nonce = Crypto.randomBytes(6).toString('hex');
            const body = JSON.stringify({
                id: Crypto.randomUUID(), create_time: formatRfc3339Beijing(new Date()), resource_type: 'encrypt-resource', event_type: 'TRANSACTION.SUCCESS', summary: '支付成功',
                resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: encryptGcm(resource, apiV3Key, nonce, 'transaction'), associated_data: 'transaction', nonce }
            });
            const timestamp = String(Math.floor(Date.now() / 1000));
            const headerNonce = Crypto.randomBytes(16).toString('hex');
            return {
                headers: {
                    'content-type': 'application/json',
                    'wechatpay-timestamp': timestamp,
                    'wechatpay-nonce': headerNonce,
                    'wechatpay-serial': serial,
                    'wechatpay-signature': rsaSign(responseMessage(timestamp, headerNonce, body), signingKey),
                    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048'
                },
                body
            };
        },
        expectStatus: 204,
        verifyBody: (body) => body === '',
        note: (made) => `RSA-signed v3 notifications with AES-GCM resources (public-key mode), each for its own unpaid order (${made} made for the measured run)`
    });
}
