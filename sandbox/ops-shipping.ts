import { isMaskedPhone } from '../lib/shipping/shipments';
import { parseRfc3339 } from '../lib/wechatpay/v3/time';

import type { SimClock } from './clock';
import type { OpsPusher } from './ops-push';
import type { OpsSettings } from './ops-settings';
import type { Trade, Trades } from './trades';

/**
 * WeChat's order shipping management for the simulator's payments (reference wechat-miniprogram-ops §2, §2.14):
 * `order_state` 1 to ship → 2 shipped → 3 receipt confirmed → 6 awaiting settlement → 4 completed, the sync lag
 * after payment, the one re-ship, automatic confirmation on the simulator's clock, and the settlement pushes.
 */

export const deliveryCompanies = [
    { delivery_id: 'SF', delivery_name: '顺丰速运' },
    { delivery_id: 'YD', delivery_name: '韵达速递' },
    { delivery_id: 'ZTO', delivery_name: '中通快递' },
    { delivery_id: 'STO', delivery_name: '申通快递' },
    { delivery_id: 'YTO', delivery_name: '圆通速递' },
    { delivery_id: 'JTSD', delivery_name: '极兔速递' },
    { delivery_id: 'EMS', delivery_name: '中国邮政速递物流' },
    { delivery_id: 'JD', delivery_name: '京东物流' }
];

export interface ShippedParcel {
    tracking_no?: string;
    express_company?: string;
    item_desc: string;
    contact?: { consignor_contact?: string; receiver_contact?: string };
    upload_time: number;
}

export interface ShippingRecord {
    trade: Trade;
    state: 1 | 2 | 3 | 4 | 5 | 6;
    logisticsType?: number;
    deliveryMode?: number;
    parcels: ShippedParcel[];
    /** The last upload's body (without upload_time), to tell an unchanged upload (10060023). */
    lastUpload?: string;
    lastUploadTime?: number;
    reshipUsed: boolean;
    finishCount: number;
    shippedAt?: number;
    confirmedAt?: number;
    confirmMethod?: 1 | 2;
}

type Failure = { errcode: number; errmsg: string };

export class ShippingBook {
    private readonly records = new Map<string, ShippingRecord>();

    constructor(private readonly trades: Trades, private readonly clock: SimClock, private readonly settings: OpsSettings,
        private readonly pusher: OpsPusher, private readonly mchId: string) {}

    /** The record of a paid trade WeChat's shipping side already knows (after the sync lag); else undefined. */
    find(key: { transactionId?: string; mchId?: string; outTradeNo?: string }, ignoreLag = false): ShippingRecord | undefined {
        const trade = key.transactionId ? this.trades.findByTransactionId(key.transactionId) : (key.outTradeNo ? this.trades.find(key.outTradeNo) : undefined);
        if (!trade || trade.state !== 'SUCCESS' || !trade.transactionId || (key.mchId !== undefined && key.mchId !== trade.mchId)) {
            return undefined;
        }

        if (!ignoreLag && this.clock.now() < trade.paidAt! + this.settings.shippingSyncLagSeconds * 1000) {
            return undefined;
        }

        let record = this.records.get(trade.transactionId);
        if (!record) {
            record = { trade, state: 1, parcels: [], reshipUsed: false, finishCount: 0 };
            this.records.set(trade.transactionId, record);
        }

        return record;
    }

    /** upload_shipping_info (§2.3), validated in the order of its error table. */
    upload(body: any): Failure | undefined {
        const fail = (errcode: number, errmsg: string): Failure => ({ errcode, errmsg });
        const key = body?.order_key;
        if (typeof key !== 'object' || key === null || !Array.isArray(body.shipping_list)) {
            return fail(47001, 'data format error');
        }

        if (key.order_number_type !== 1 && key.order_number_type !== 2) {
            return fail(268485194, 'invalid order_number_type');
        }

        if (key.order_number_type === 2 && !key.transaction_id) {
            return fail(268485195, 'transaction_id is required');
        }

        if (key.order_number_type === 1 && !key.mchid) {
            return fail(268485196, 'mchid is required');
        }

        if (key.order_number_type === 1 && !key.out_trade_no) {
            return fail(268485197, 'out_trade_no is required');
        }

        const record = this.find(key.order_number_type === 2
            ? { transactionId: key.transaction_id, mchId: key.mchid }
            : { mchId: key.mchid, outTradeNo: key.out_trade_no });
        if (!record) {
            return fail(10060001, '支付单不存在');
        }

        if (![1, 2, 3, 4].includes(body.logistics_type)) {
            return fail(10060005, 'invalid logistics_type');
        }

        if (body.delivery_mode !== 1 && body.delivery_mode !== 2) {
            return fail(268485224, 'invalid delivery_mode');
        }

        if (body.delivery_mode === 2 && body.logistics_type !== 1) {
            return fail(10060006, 'split delivery is for express only');
        }

        if (body.delivery_mode === 2 && typeof body.is_all_delivered !== 'boolean') {
            return fail(10060007, 'is_all_delivered is required');
        }

        const list: any[] = body.shipping_list;
        if (!list.length || (body.delivery_mode === 1 && list.length !== 1)) {
            return fail(268485228, 'unified delivery needs exactly one shipping_list entry');
        }

        // The current page says 15, the error text still 10: the stricter.
        if (list.length > 10) {
            return fail(10060024, 'shipping_list 不可大于 10');
        }

        for (const parcel of list) {
            const problem = this.parcelProblem(parcel, body.logistics_type);
            if (problem) {
                return problem;
            }
        }

        // parseRfc3339 checks the form; Date.parse keeps the milliseconds that order two uploads in one second.
        const uploadTime = typeof body.upload_time === 'string' && parseRfc3339(body.upload_time) ? Date.parse(body.upload_time) : undefined;
        if (uploadTime === undefined) {
            return fail(268485216, 'upload_time 必须为RFC 3339格式');
        }

        if (body.payer?.openid !== record.trade.payer) {
            return fail(10060031, 'payer openid does not match the payment');
        }

        if (record.state !== 1 && record.state !== 2) {
            return fail(10060004, 'payment not in a shippable state');
        }

        const { upload_time: _time, ...content } = body;
        const fingerprint = JSON.stringify(content);
        if (record.lastUpload === fingerprint) {
            return fail(10060023, '发货信息未更新');
        }

        if (record.lastUploadTime !== undefined && uploadTime <= record.lastUploadTime) {
            return fail(10060014, 'upload_time must be later than the previous upload');
        }

        // After full shipment, a new upload (or another delivery mode or logistics type) is the one re-ship.
        const changesKind = record.deliveryMode !== undefined && (record.deliveryMode !== body.delivery_mode || record.logisticsType !== body.logistics_type);
        const reship = record.state === 2 || changesKind;
        if (reship && record.reshipUsed) {
            return fail(10060003, '已使用过重新发货机会');
        }

        const now = this.clock.now();
        record.reshipUsed ||= reship;
        record.lastUpload = fingerprint;
        record.lastUploadTime = uploadTime;
        record.logisticsType = body.logistics_type;
        record.deliveryMode = body.delivery_mode;
        const parcels = list.map((parcel) => ({ ...parcel, upload_time: Math.floor(now / 1000) }));
        record.parcels = reship || body.delivery_mode === 1 ? parcels : [...record.parcels, ...parcels];
        if (body.delivery_mode === 1 || body.is_all_delivered === true) {
            const firstTime = record.state === 1;
            record.state = 2;
            record.shippedAt = now;
            record.finishCount = reship ? 2 : 1;
            if (firstTime) {
                void this.pusher.push({ Event: 'trade_manage_order_settlement', ...this.pushFields(record), estimated_settlement_time: Math.floor((now + this.autoConfirmMs(record)) / 1000) });
            }
        }

        return undefined;
    }

    private parcelProblem(parcel: any, logisticsType: number): Failure | undefined {
        const fail = (errcode: number, errmsg: string): Failure => ({ errcode, errmsg });
        if (typeof parcel !== 'object' || parcel === null) {
            return fail(47001, 'data format error');
        }

        if (typeof parcel.item_desc !== 'string' || !parcel.item_desc) {
            return fail(10060008, 'item_desc is empty');
        }

        if ([...parcel.item_desc].length > 120) {
            return fail(10060009, 'item_desc too long');
        }

        if (logisticsType === 1) {
            if (!parcel.tracking_no) {
                return fail(268485226, 'tracking_no is required for express');
            }

            if (!parcel.express_company) {
                return fail(268485227, 'express_company is required for express');
            }

            if (Buffer.byteLength(String(parcel.tracking_no)) > 128) {
                return fail(10060026, 'tracking_no too long');
            }

            if (String(parcel.express_company).length > 128) {
                return fail(10060025, 'express_company too long');
            }

            // Not in the official table: an unknown courier id is refused as an invalid parameter [assumption].
            if (!deliveryCompanies.some((company) => company.delivery_id === parcel.express_company)) {
                return fail(10060014, 'express_company is not a delivery_id of get_delivery_list');
            }

            if (parcel.express_company === 'SF' && !parcel.contact?.consignor_contact && !parcel.contact?.receiver_contact) {
                return fail(10060014, 'contact is required for SF');
            }
        }

        for (const contact of [parcel.contact?.consignor_contact, parcel.contact?.receiver_contact]) {
            if (contact !== undefined && (typeof contact !== 'string' || !isMaskedPhone(contact))) {
                return fail(10060014, 'contact must be masked with its last 4 digits clear');
            }
        }

        return undefined;
    }

    /** The simulated buyer confirms receipt (or the automatic confirmation does): 2 → 3, then settlement. */
    async confirm(record: ShippingRecord, method: 1 | 2): Promise<boolean> {
        if (record.state !== 2) {
            return false;
        }

        record.state = 3;
        record.confirmedAt = this.clock.now();
        record.confirmMethod = method;
        await this.advance();
        return true;
    }

    /** Applies what the simulator's clock says is due: automatic confirmations and settlements, with their pushes. */
    async advance(): Promise<void> {
        const now = this.clock.now();
        for (const record of this.records.values()) {
            if (record.state === 2 && record.shippedAt !== undefined && now >= record.shippedAt + this.autoConfirmMs(record)) {
                record.state = 3;
                record.confirmedAt = record.shippedAt + this.autoConfirmMs(record);
                record.confirmMethod = 1;
            }

            if ((record.state === 3 || record.state === 6) && now >= record.confirmedAt! + this.settings.settlementDelaySeconds * 1000) {
                record.state = 4;
                await this.pusher.push({
                    Event: 'trade_manage_order_settlement', ...this.pushFields(record),
                    confirm_receive_method: record.confirmMethod!, confirm_receive_time: Math.floor(record.confirmedAt! / 1000), settlement_time: Math.floor(now / 1000)
                });
            }
            else if (record.state === 3) {
                record.state = 6;
            }
        }
    }

    /** get_order's `order` object (§2.5). */
    view(record: ShippingRecord): object {
        const { trade } = record;
        return {
            transaction_id: trade.transactionId, merchant_trade_no: trade.outTradeNo, merchant_id: trade.mchId, sub_merchant_id: '',
            description: record.parcels.map((parcel) => parcel.item_desc).join(';').slice(0, 120),
            paid_amount: trade.totalFee, openid: trade.payer, trade_create_time: Math.floor(trade.createdAt / 1000),
            pay_time: Math.floor(trade.paidAt! / 1000), in_complaint: false, order_state: record.state,
            shipping: record.state === 1 && !record.parcels.length ? {} : {
                delivery_mode: record.deliveryMode, logistics_type: record.logisticsType, finish_shipping: record.state !== 1,
                finish_shipping_count: record.finishCount, goods_desc: '', shipping_list: record.parcels
            }
        };
    }

    private autoConfirmMs(record: ShippingRecord): number {
        return (record.logisticsType === 1 ? this.settings.autoConfirmExpressDays : this.settings.autoConfirmOtherDays) * 86_400_000;
    }

    private pushFields(record: ShippingRecord): Record<string, string | number> {
        return {
            transaction_id: record.trade.transactionId!, merchant_id: this.mchId, sub_merchant_id: '', merchant_trade_no: record.trade.outTradeNo,
            pay_time: Math.floor(record.trade.paidAt! / 1000), shipped_time: Math.floor((record.shippedAt ?? 0) / 1000)
        };
    }
}
