import { expect } from '@hapi/code';

import type { RefundContext } from '../lib/refunds/context';
import { ThrowawayCa } from '../lib/tls/throwaway-ca';
import { Order, Refund } from '../models';
import { eventually, eventuallyStatus, pay, sim, startApp, TestApp, unpaidOrder } from './helpers';

/** One CA and merchant certificate per test process: RSA keys take a while to make. */
let material: { ca: ThrowawayCa; cert: string; key: string } | undefined;
export function testCertificates(mchId = '1900000109') {
    const ca = material?.ca ?? ThrowawayCa.create('wxshop test CA');
    const merchant = ca.issueMerchant(mchId);
    material = { ca, ...merchant };
    return material;
}

/** The app with the simulator mounted and a merchant certificate configured (refunds refuse without one). */
export function startRefundApp(overrides: Record<string, string | undefined> = {}): Promise<TestApp> {
    const { cert, key } = testCertificates();
    return startApp({ WECHATPAY_CERT: cert, WECHATPAY_CERT_KEY: key, ...overrides });
}

export function refundContext(app: TestApp): RefundContext {
    return app.context.refunds;
}

/** A new buyer's order, paid through the simulated phone, with the notification applied. */
export async function paidOrder(app: TestApp, options: { price?: number; count?: number; stock?: number } = {}) {
    const placed = await unpaidOrder(app, options);
    const params = (await pay(app, placed.user, placed.order.id)).body;
    const paid = await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
    expect(paid.statusCode).to.equal(200);
    await eventuallyStatus(app, placed.user, placed.order.id, 'paid');
    return placed;
}

export async function eventuallyRefund(refundId: number, status: string, timeoutMs = 5000): Promise<Refund> {
    return eventually(async () => {
        const refund = await Refund.findByPk(refundId);
        return refund?.status === status && refund;
    }, `refund ${refundId} to be ${status}`, timeoutMs);
}

export async function orderRow(orderId: number): Promise<Order> {
    return (await Order.findByPk(orderId))!;
}
