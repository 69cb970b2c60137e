import type { WechatOpsConfig } from '../../config/wechat-ops';
import type { Order } from '../../models';
import type { NoticeOutcome, Parcel } from '../../models/shipment';
import { WechatApiError } from '../wechat/access-token';
import { fitValue } from '../wechat/subscribe-values';
import type { OpsServices } from './services';

/** 43101: the buyer did not accept the template (or has no acceptance left). Normal, not an error. */
const notSubscribed = 43101;

function beijingDate(date: Date): string {
    const beijing = new Date(date.getTime() + 8 * 3600_000);
    const pad = (value: number) => String(value).padStart(2, '0');
    return `${beijing.getUTCFullYear()}年${beijing.getUTCMonth() + 1}月${beijing.getUTCDate()}日 ${pad(beijing.getUTCHours())}:${pad(beijing.getUTCMinutes())}`;
}

/** The keyword values of the ship notice, from the configured mapping, each cut to its type's limit. */
export function noticeData(notice: NonNullable<WechatOpsConfig['shipNotice']>, order: Order, parcels: Parcel[], shippedAt: Date, companyName: (id?: string) => string) {
    const first = parcels[0];
    const sources = {
        goods: first?.itemDesc ?? '',
        trackingNo: first?.trackingNo ?? '无',
        expressCompany: first?.expressCompany ? companyName(first.expressCompany) : '无需物流',
        shippedAt: beijingDate(shippedAt),
        outTradeNo: order.outTradeNo,
        totalFee: `¥${(order.totalFee / 100).toFixed(2)}`
    };
    return Object.fromEntries(Object.entries(notice.fields).map(([keyword, source]) => [keyword, { value: fitValue(keyword, sources[source]) }]));
}

/** Tells the buyer the order shipped (a subscribe message). Never throws: a notice is not worth failing a shipment. */
export async function sendShipNotice(ops: OpsServices, notice: WechatOpsConfig['shipNotice'], order: Order, parcels: Parcel[], shippedAt: Date): Promise<NoticeOutcome> {
    if (!notice || !order.payerOpenid) {
        return 'off';
    }

    try {
        const companies = await ops.shipping.deliveryCompanies().catch(() => []);
        const name = (id?: string) => companies.find((company) => company.id === id)?.name ?? id ?? '';
        await ops.api.post('/cgi-bin/message/subscribe/send', {
            touser: order.payerOpenid,
            template_id: notice.templateId,
            ...notice.page ? { page: `${notice.page}${notice.page.includes('?') ? '&' : '?'}orderId=${order.id}` } : {},
            data: noticeData(notice, order, parcels, shippedAt, name),
            miniprogram_state: notice.miniprogramState
        });
        return 'sent';
    }
    catch (err) {
        if (err instanceof WechatApiError && err.errcode === notSubscribed) {
            ops.log('info', `order ${order.id}: no ship notice, the buyer has not subscribed to it (43101)`);
            return 'not_subscribed';
        }

        ops.log('warn', `order ${order.id}: the ship notice failed: ${(err as Error).message}`);
        return 'failed';
    }
}
