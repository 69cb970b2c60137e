import { Op, WhereOptions } from 'sequelize';

import type { Config } from '../../config';
import { Order, Shipment } from '../../models';
import { WechatApiError } from '../wechat/access-token';
import { sendShipNotice } from '../shipping/notice';
import type { OpsServices } from '../shipping/services';
import { applyShippingState } from '../shipping/settlement';
import { parcelsOf } from '../shipping/shipments';

/**
 * The shipping jobs: upload pending shipments to WeChat (upload_shipping_info) and ask WeChat (get_order) about
 * shipped orders whose settlement push never came. Rows are claimed like orders are (lib/jobs/claim.ts).
 */

export interface ShippingJobContext {
    config: Config;
    ops: OpsServices;
}

const leaseMs = 60_000;
/** "支付单不存在" right after payment: the payment is not synced to the shipping side yet; staff say retry after a minute. */
const notYetSynced = 10060001;
/** The payment was fully shipped already: what we meant to say is there. */
const alreadyShipped = 10060002;
const syncRetryMs = 60_000;
const transientBackoffMs = [10_000, 30_000, 60_000, 300_000, 600_000];
const maxAttempts = 30;

async function claimDueShipments(where: WhereOptions<Shipment>, dueField: 'nextAttemptAt' | 'nextCheckAt', now: Date, batch: number): Promise<Shipment[]> {
    const unclaimed = { [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] };
    const due = await Shipment.findAll({ where: { [Op.and]: [where, unclaimed] }, attributes: ['id'], order: [[dueField, 'ASC']], limit: batch });
    const claimed: number[] = [];
    for (const { id } of due) {
        const [affected] = await Shipment.update({ claimedUntil: new Date(now.getTime() + leaseMs) }, { where: { [Op.and]: [where, unclaimed, { id }] } });
        if (affected === 1) {
            claimed.push(id);
        }
    }

    return claimed.length ? Shipment.findAll({ where: { id: claimed }, order: [[dueField, 'ASC']] }) : [];
}

/** When a failed upload is tried again, or undefined when it is not worth trying again. */
export function nextUploadAttempt(err: unknown, attempts: number, now: Date): Date | undefined {
    if (attempts >= maxAttempts || !(err instanceof WechatApiError)) {
        return undefined;
    }

    if (err.errcode === notYetSynced) {
        return new Date(now.getTime() + syncRetryMs);
    }

    return err.transient ? new Date(now.getTime() + transientBackoffMs[Math.min(attempts - 1, transientBackoffMs.length - 1)]) : undefined;
}

async function uploadOne(context: ShippingJobContext, shipment: Shipment, order: Order, now: Date): Promise<Partial<Shipment['_creationAttributes']>> {
    const { ops, config } = context;
    const attempts = shipment.uploadAttempts + 1;
    const checkLater = shipment.isAllDelivered ? new Date(now.getTime() + config.ops.pollSeconds * 1000) : null;
    try {
        if (!await ops.shipping.isTradeManaged()) {
            return { uploadStatus: 'skipped', uploadAttempts: attempts, lastError: 'the mini-program is not trade-managed: nothing to upload', nextAttemptAt: null };
        }

        await ops.shipping.upload({
            transactionId: order.transactionId!, mchId: config.pay.mchId, payerOpenid: order.payerOpenid!,
            logisticsType: shipment.logisticsType, deliveryMode: shipment.deliveryMode, isAllDelivered: shipment.isAllDelivered,
            parcels: parcelsOf(shipment), uploadTime: now
        });
        return { uploadStatus: 'uploaded', uploadAttempts: attempts, uploadedAt: now, lastError: null, nextAttemptAt: null, nextCheckAt: checkLater };
    }
    catch (err) {
        const message = (err as Error).message.slice(0, 255);
        if (err instanceof WechatApiError && err.errcode === alreadyShipped) {
            return { uploadStatus: 'uploaded', uploadAttempts: attempts, uploadedAt: now, lastError: message, nextAttemptAt: null, nextCheckAt: checkLater };
        }

        const next = nextUploadAttempt(err, attempts, now);
        if (next) {
            return { uploadAttempts: attempts, lastError: message, nextAttemptAt: next };
        }

        ops.log('error', `shipment ${shipment.id} of order ${order.id} cannot be uploaded to WeChat, a person must look: ${message}`);
        return { uploadStatus: 'failed', uploadAttempts: attempts, lastError: message, nextAttemptAt: null };
    }
}

/** Uploads the shipments that are due; sends each first shipment's notice once. Returns how many were uploaded. */
export async function uploadShipments(context: ShippingJobContext, now = new Date(), batch = 20): Promise<number> {
    const due = await claimDueShipments({ uploadStatus: 'pending', nextAttemptAt: { [Op.lte]: now } }, 'nextAttemptAt', now, batch);
    let uploaded = 0;
    for (const shipment of due) {
        const order = (await Order.findByPk(shipment.orderId))!;
        const changes = await uploadOne(context, shipment, order, now);
        uploaded += changes.uploadStatus === 'uploaded' ? 1 : 0;
        if (shipment.notice === null && !shipment.reship && shipment.isAllDelivered && changes.uploadStatus) {
            changes.notice = await sendShipNotice(context.ops, context.config.ops.shipNotice, order, parcelsOf(shipment), shipment.createdAt);
        }

        await Shipment.update({ ...changes, claimedUntil: null }, { where: { id: shipment.id } });
    }

    return uploaded;
}

/**
 * Pushes get lost: asks WeChat (get_order) about uploaded shipments of orders not yet completed, every
 * `pollSeconds`, and applies what it says exactly as a push would. Returns how many orders changed status.
 */
export async function pollShipments(context: ShippingJobContext, now = new Date(), batch = 20): Promise<number> {
    const due = await claimDueShipments({ uploadStatus: 'uploaded', nextCheckAt: { [Op.lte]: now } }, 'nextCheckAt', now, batch);
    let changed = 0;
    for (const shipment of due) {
        const order = (await Order.findByPk(shipment.orderId))!;
        let status = order.status;
        try {
            if (status === 'shipped' || status === 'received') {
                status = await applyShippingState(context.ops, order, 'get_order poll');
                changed += status !== order.status ? 1 : 0;
            }
        }
        catch (err) {
            context.ops.log('warn', `get_order of order ${order.id} failed, will ask again: ${(err as Error).message}`);
        }

        const done = status !== 'shipped' && status !== 'received';
        await Shipment.update({ nextCheckAt: done ? null : new Date(now.getTime() + context.config.ops.pollSeconds * 1000), claimedUntil: null }, { where: { id: shipment.id } });
    }

    return changed;
}
