import { Op } from 'sequelize';

import { Order } from '../../models';
import type { OpsServices } from './services';
import { applyShippingState } from './settlement';

/**
 * What a trade-management push does (reference wechat-miniprogram-ops §3.8). The settlement push is a trigger to ask
 * get_order (its own fields have been seen reversed or empty); the shipping reminder reaches a person through the log.
 * Handling is idempotent, so WeChat's retries and duplicates change nothing twice.
 */
export async function handlePushEvent(ops: OpsServices, event: Record<string, unknown>): Promise<void> {
    const name = String(event.Event ?? event.MsgType ?? '');
    const transactionId = typeof event.transaction_id === 'string' ? event.transaction_id : undefined;
    const outTradeNo = typeof event.merchant_trade_no === 'string' ? event.merchant_trade_no : undefined;
    const order = transactionId || outTradeNo
        ? await Order.findOne({ where: { [Op.or]: [...transactionId ? [{ transactionId }] : [], ...outTradeNo ? [{ outTradeNo }] : []] } })
        : null;

    switch (name) {
        case 'trade_manage_order_settlement': {
            if (!order?.transactionId) {
                ops.log('warn', `settlement push for a payment we do not know (transaction ${transactionId}, order ${outTradeNo})`);
                return;
            }

            const status = order.status === 'shipped' || order.status === 'received' ? await applyShippingState(ops, order, name) : order.status;
            ops.log('info', `order ${order.id}: ${event.settlement_time ? 'settled' : 'shipping completed'} at WeChat, now ${status}`);
            return;
        }
        case 'trade_manage_remind_shipping':
            ops.log('warn', `merchant reminder from WeChat: order ${order?.id ?? outTradeNo} (transaction ${transactionId}) is not shipped yet: ${event.msg ?? ''}`);
            return;
        case 'trade_manage_remind_access_api':
            ops.log('warn', `merchant reminder from WeChat: ${event.msg ?? 'upload shipping information through the API'}`);
            return;
        default:
            ops.log('info', `message push ${name || '(no Event)'} ignored`);
    }
}
