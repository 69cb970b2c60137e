import type { Sequelize } from 'sequelize';

import { Order, OrderItem, Shipment } from '../../models';
import type { Parcel } from '../../models/shipment';
import type { MerchantModels } from '../../models/merchant';
import type { MerchantActor } from '../merchant/actor';
import { recordAction } from '../merchant/audit';
import { transition } from '../orders/status';
import type { DeliveryCompany } from './wechat-shipping';

/**
 * Shipping a paid order (reference wechat-miniprogram-ops §2.3): the rules WeChat enforces, checked here first so a
 * merchant hears of a mistake at once (a 400) rather than from a failed upload later.
 */

export const logisticsTypes = { express: 1, sameCity: 2, virtual: 3, pickUp: 4 } as const;
export const deliveryModes = { unified: 1, split: 2 } as const;
/** The current page allows 15 parcels, its error text still says 10: the stricter. */
export const maxParcels = 10;
export const maxItemDesc = 120;
/** SF (顺丰) is the courier that needs a contact phone. */
const contactCourier = 'SF';

export interface ShipmentInput {
    logisticsType: number;
    deliveryMode: number;
    isAllDelivered?: boolean;
    shippingList: Parcel[];
}

export class ShipmentRejected extends Error {
    constructor(readonly status: 400 | 404 | 409, message: string) {
        super(message);
        this.name = 'ShipmentRejected';
    }
}

/** Masked, the last four digits in the clear: `189****1234`, `+86-177****1234`, `021-**34-12`. */
export function isMaskedPhone(value: string): boolean {
    return /^[0-9+\-*]{4,32}$/.test(value) && value.includes('*') && /\d{4}$/.test(value.replace(/-/g, ''));
}

/** What WeChat would refuse in a shipment, as one sentence; undefined when it is acceptable. */
export function shipmentProblem(input: ShipmentInput, companies: DeliveryCompany[]): string | undefined {
    const express = input.logisticsType === logisticsTypes.express;
    if (input.deliveryMode === deliveryModes.split && !express) {
        return 'split delivery is for express (logisticsType 1) only';
    }

    if (input.deliveryMode === deliveryModes.split && input.isAllDelivered === undefined) {
        return 'split delivery needs isAllDelivered';
    }

    if (input.deliveryMode === deliveryModes.unified && input.shippingList.length !== 1) {
        return 'unified delivery takes exactly one parcel';
    }

    for (const [index, parcel] of input.shippingList.entries()) {
        const where = `shippingList[${index}]`;
        if (express && (!parcel.trackingNo || !parcel.expressCompany)) {
            return `${where}: express needs trackingNo and expressCompany`;
        }

        if (!express && (parcel.trackingNo || parcel.expressCompany)) {
            return `${where}: trackingNo and expressCompany are for express only`;
        }

        if (parcel.expressCompany && !companies.some((company) => company.id === parcel.expressCompany)) {
            return `${where}: expressCompany "${parcel.expressCompany}" is not in WeChat's delivery list (GET /merchant/delivery-companies)`;
        }

        const contacts = [parcel.contact?.consignorContact, parcel.contact?.receiverContact].filter((contact): contact is string => contact !== undefined);
        if (parcel.expressCompany === contactCourier && !contacts.length) {
            return `${where}: SF needs contact.consignorContact or contact.receiverContact`;
        }

        if (contacts.some((contact) => !isMaskedPhone(contact))) {
            return `${where}: a contact phone must be masked with its last 4 digits clear, e.g. 189****1234`;
        }
    }

    return undefined;
}

/** "name*count;…" of the order's lines, cut to WeChat's 120 characters: the item description when none is given. */
export function describeItems(items: Array<Pick<OrderItem, 'name' | 'count'>>): string {
    const text = items.map((item) => `${item.name}*${item.count}`).join(';');
    const chars = [...text];
    return chars.length <= maxItemDesc ? text : `${chars.slice(0, maxItemDesc - 3).join('')}...`;
}

/**
 * Records a shipment and moves the order: paid → shipped when it completes the delivery (unified, or split with
 * isAllDelivered). A shipment of a shipped order is its one re-ship (WeChat allows one per payment). Takes the
 * order's row lock first, so two shipments of one order are decided one after the other.
 */
export async function createShipment(sequelize: Sequelize, models: MerchantModels, actor: MerchantActor, orderId: number, input: ShipmentInput): Promise<Shipment> {
    return sequelize.transaction(async (transaction) => {
        await Order.update({ updatedAt: new Date() }, { where: { id: orderId }, transaction });
        const order = await Order.findByPk(orderId, { include: [{ model: OrderItem, as: 'items' }], transaction });
        if (!order) {
            throw new ShipmentRejected(404, `Order ${orderId} does not exist`);
        }

        if (order.status !== 'paid' && order.status !== 'shipped') {
            throw new ShipmentRejected(409, `Order ${orderId} is ${order.status}: only paid orders are shipped (and shipped ones re-shipped once)`);
        }

        const reship = order.status === 'shipped';
        if (reship && await Shipment.count({ where: { orderId, reship: true }, transaction })) {
            throw new ShipmentRejected(409, `Order ${orderId} was re-shipped already: WeChat allows one re-ship per payment`);
        }

        const completes = input.deliveryMode === deliveryModes.unified || input.isAllDelivered === true;
        if (reship && !completes) {
            throw new ShipmentRejected(400, 'a re-ship replaces the whole delivery: unified, or split with isAllDelivered');
        }

        const describe = describeItems(order.items ?? []);
        const parcels = input.shippingList.map((parcel) => ({ ...parcel, itemDesc: parcel.itemDesc || describe }));
        if (reship) {
            // The re-ship replaces what WeChat knows: only its state is worth asking about from now on.
            await Shipment.update({ nextCheckAt: null }, { where: { orderId }, transaction });
        }

        const createdBy = `${actor.type}:${actor.id}`;
        const shipment = await Shipment.create({
            orderId,
            logisticsType: input.logisticsType,
            deliveryMode: input.deliveryMode,
            isAllDelivered: completes,
            parcels: JSON.stringify(parcels),
            reship,
            uploadStatus: 'pending',
            nextAttemptAt: new Date(),
            createdBy
        }, { transaction });

        if (!reship && completes && !await transition(orderId, 'paid', 'shipped', {}, transaction, {}, { actor: { kind: 'staff', id: createdBy }, reason: `shipment ${shipment.id}` })) {
            throw new ShipmentRejected(409, `Order ${orderId} changed meanwhile: try again`);
        }

        await recordAction(models, transaction, actor, reship ? 'order.reship' : 'order.ship', { type: 'order', id: orderId },
            { shipmentId: shipment.id, logisticsType: input.logisticsType, deliveryMode: input.deliveryMode, parcels: parcels.length });
        return shipment;
    });
}

export function parcelsOf(shipment: Shipment): Parcel[] {
    return JSON.parse(shipment.parcels) as Parcel[];
}

/** A shipment as the merchant sees it. */
export function merchantShipmentView(shipment: Shipment) {
    return {
        id: shipment.id,
        logisticsType: shipment.logisticsType,
        deliveryMode: shipment.deliveryMode,
        isAllDelivered: shipment.isAllDelivered,
        reship: shipment.reship,
        shippingList: parcelsOf(shipment),
        uploadStatus: shipment.uploadStatus,
        uploadAttempts: shipment.uploadAttempts,
        lastError: shipment.lastError ?? null,
        uploadedAt: shipment.uploadedAt ?? null,
        notice: shipment.notice ?? null,
        createdBy: shipment.createdBy,
        createdAt: shipment.createdAt
    };
}

/** A shipment as the buyer sees it: how it travels and the tracking numbers, no contacts. */
export function buyerShipmentView(shipment: Shipment) {
    return {
        id: shipment.id,
        logisticsType: shipment.logisticsType,
        parcels: parcelsOf(shipment).map((parcel) => ({ trackingNo: parcel.trackingNo ?? null, expressCompany: parcel.expressCompany ?? null, itemDesc: parcel.itemDesc })),
        createdAt: shipment.createdAt
    };
}

export function shipmentsOf(orderId: number): Promise<Shipment[]> {
    return Shipment.findAll({ where: { orderId }, order: [['id', 'ASC']] });
}
