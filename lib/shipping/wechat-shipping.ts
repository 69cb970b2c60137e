import { uploadTimeOf } from './time';
import type { WechatServerApi } from '../wechat/server-api';

/** WeChat's shipping-management APIs (reference wechat-miniprogram-ops §2) as wxshop calls them. */

export interface DeliveryCompany {
    id: string;
    name: string;
}

export interface WechatShippingOrder {
    order_state: number;
    shipping?: { finish_shipping?: boolean; finish_shipping_count?: number };
}

export interface UploadInput {
    transactionId: string;
    mchId: string;
    payerOpenid: string;
    logisticsType: number;
    deliveryMode: number;
    isAllDelivered: boolean;
    parcels: Array<{ trackingNo?: string; expressCompany?: string; itemDesc: string; contact?: { consignorContact?: string; receiverContact?: string } }>;
    uploadTime: Date;
}

/** An answer kept for `ttlMs` per instance. */
class Cached<T> {
    private value?: { data: T; until: number };

    constructor(private readonly ttlMs: number, private readonly load: () => Promise<T>) {}

    async get(): Promise<T> {
        if (this.value && Date.now() < this.value.until) {
            return this.value.data;
        }

        const data = await this.load();
        this.value = { data, until: Date.now() + this.ttlMs };
        return data;
    }
}

export class ShippingApi {
    private readonly managed: Cached<boolean>;
    private readonly companies: Cached<DeliveryCompany[]>;

    constructor(private readonly api: WechatServerApi, appId: string, cacheSeconds: number) {
        this.managed = new Cached(cacheSeconds * 1000, async () =>
            (await api.post<{ is_trade_managed: boolean }>('/wxa/sec/order/is_trade_managed', { appid: appId })).is_trade_managed === true);
        this.companies = new Cached(cacheSeconds * 1000, async () => {
            const answer = await api.post<{ delivery_list?: Array<{ delivery_id: string; delivery_name: string }> }>('/cgi-bin/express/delivery/open_msg/get_delivery_list', {});
            return (answer.delivery_list ?? []).map((company) => ({ id: company.delivery_id, name: company.delivery_name }));
        });
    }

    /** is_trade_managed, cached: whether payments of this mini-program wait for shipping information. */
    isTradeManaged(): Promise<boolean> {
        return this.managed.get();
    }

    /** get_delivery_list, cached: the couriers whose ids `express_company` takes. */
    deliveryCompanies(): Promise<DeliveryCompany[]> {
        return this.companies.get();
    }

    /** upload_shipping_info, the payment named by transaction_id (order_number_type 2) and our mchid. */
    async upload(input: UploadInput): Promise<void> {
        await this.api.post('/wxa/sec/order/upload_shipping_info', {
            order_key: { order_number_type: 2, transaction_id: input.transactionId, mchid: input.mchId },
            logistics_type: input.logisticsType,
            delivery_mode: input.deliveryMode,
            ...input.deliveryMode === 2 ? { is_all_delivered: input.isAllDelivered } : {},
            shipping_list: input.parcels.map((parcel) => ({
                ...parcel.trackingNo ? { tracking_no: parcel.trackingNo } : {},
                ...parcel.expressCompany ? { express_company: parcel.expressCompany } : {},
                item_desc: parcel.itemDesc,
                ...parcel.contact ? { contact: { consignor_contact: parcel.contact.consignorContact, receiver_contact: parcel.contact.receiverContact } } : {}
            })),
            upload_time: uploadTimeOf(input.uploadTime),
            payer: { openid: input.payerOpenid }
        });
    }

    /** get_order: WeChat's shipping state of a payment. */
    async getOrder(transactionId: string): Promise<WechatShippingOrder> {
        return (await this.api.post<{ order: WechatShippingOrder }>('/wxa/sec/order/get_order', { transaction_id: transactionId })).order;
    }
}
