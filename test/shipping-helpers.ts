import { eventually, eventuallyStatus, json, pay, sim, TestApp, unpaidOrder } from './helpers';

/** A paid order: placed, paid on the simulated phone with the wx.requestPayment parameters, notified. */
export async function paidOrder(app: TestApp, options: { price?: number; count?: number } = {}) {
    const placed = await unpaidOrder(app, options);
    const params = (await pay(app, placed.user, placed.order.id)).body;
    const paid = await sim(app, 'pay', { prepayId: params.package.slice('prepay_id='.length), ...params });
    if (paid.statusCode !== 200) {
        throw new Error(`pay failed: ${paid.statusCode} ${JSON.stringify(paid.body)}`);
    }

    const order = await eventuallyStatus(app, placed.user, placed.order.id, 'paid');
    return { ...placed, order, transactionId: order.transactionId as string };
}

/** A simulator hook of the mini-program server APIs (`/__sim/ops/...`). */
export function ops(app: TestApp, path: string, payload?: object, method = 'POST') {
    return sim(app, `ops/${path}`, payload, method);
}

export const express = (trackingNo = `SF${Date.now()}`, expressCompany = 'SF') => ({
    logisticsType: 1,
    deliveryMode: 1,
    shippingList: [{ trackingNo, expressCompany, contact: { receiverContact: '189****1234' } }]
});

export function ship(app: TestApp, who: { auth: { authorization: string } } | undefined, orderId: number, payload: object = express()) {
    return json(app.server, { method: 'POST', url: `/merchant/orders/${orderId}/shipments`, headers: who?.auth ?? {}, payload });
}

/** Waits until WeChat's "shipping completed" push about this payment was answered (it follows an upload, unawaited). */
export function shippedPushDelivered(app: TestApp, transactionId: string) {
    return eventually(async () => (await ops(app, 'pushes', undefined, 'GET')).body
        .some((push: any) => push.transactionId === transactionId && push.outcome === 'success'), `the shipping push of ${transactionId}`);
}
