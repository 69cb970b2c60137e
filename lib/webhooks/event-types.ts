/**
 * The event types a webhook endpoint can subscribe to, and which status change reports which. The later work
 * (refund records, shipping, the payments API) adds its types to `webhookEventTypes` and its rows to
 * `statusChangeEvents`; nothing else needs to change.
 */
export const webhookEventTypes = [
    'order.paid',
    'order.closed',
    'order.refund_required',
    'order.refunded',
    'refund.succeeded',
    'refund.failed',
    'order.shipped',
    'order.received',
    'order.completed',
    // slots for the payments API to come: written once its changes exist
    'payment.succeeded',
    'payment.closed',
    'payment.refunded'
] as const;

export type WebhookEventType = typeof webhookEventTypes[number];

/** `from` undefined: from any status. The first matching row wins; a change matching none is not reported. */
interface StatusChangeEvent {
    from?: string;
    to: string;
    type: WebhookEventType;
}

const statusChangeEvents: readonly StatusChangeEvent[] = [
    { from: 'unpaid', to: 'paid', type: 'order.paid' },
    { from: 'closing', to: 'paid', type: 'order.paid' },
    { to: 'closed', type: 'order.closed' },
    { to: 'refunded', type: 'order.refunded' },
    { to: 'shipped', type: 'order.shipped' },
    { to: 'received', type: 'order.received' },
    { to: 'completed', type: 'order.completed' }
];

export function eventTypeOfStatusChange(from: string | null, to: string): WebhookEventType | undefined {
    if (from === null) {
        return undefined;
    }

    return statusChangeEvents.find((row) => row.to === to && (row.from === undefined || row.from === from))?.type;
}
