import { Order } from '../../models';
import type { OrderStatus } from '../../models';
import { wechatActor } from '../orders/events';
import { transition } from '../orders/status';
import type { OpsServices } from './services';

/** WeChat's order_state (reference §2.2): 3 receipt confirmed, 6 awaiting settlement, 4 completed, 5 refunded. */
const receivedStates = new Set([3, 4, 6]);
const completedState = 4;
const refundedState = 5;

/**
 * Moves a shipped order to what WeChat's shipping record says (get_order: pushes' own fields are unreliable, reference
 * §3.8): shipped → received once the buyer confirmed (or it auto-confirmed), → completed at settlement. Each move is
 * a conditional transition, so a duplicate push or a poll racing a push changes nothing twice. Resolves to the status.
 */
export async function applyShippingState(ops: OpsServices, order: Order, why: string): Promise<OrderStatus> {
    const { order_state: state } = await ops.shipping.getOrder(order.transactionId!);
    let status = order.status;
    const move = async (from: OrderStatus, to: OrderStatus) => {
        if (status !== from) {
            return;
        }

        // Lost to a racing push or poll: go on from where that one left the order.
        status = await transition(order.id, from, to, {}, undefined, {}, { actor: wechatActor, reason: `${why}: WeChat order_state ${state}` })
            ? to
            : (await Order.findByPk(order.id))!.status;
    };

    if (receivedStates.has(state)) {
        await move('shipped', 'received');
    }

    if (state === completedState) {
        await move('received', 'completed');
    }

    if (state === refundedState) {
        ops.log('warn', `order ${order.id}: WeChat says its payment was refunded (order_state 5) while it is ${status} here`);
    }

    return status;
}
