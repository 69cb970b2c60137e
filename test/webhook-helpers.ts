import * as Crypto from 'crypto';
import * as Http from 'http';
import type { AddressInfo } from 'net';

import { runWebhookJobs } from '../lib/webhooks/job';
import { json, pay, TestApp, unpaidOrder } from './helpers';
import { merchant, StaffLogin } from './merchant-helpers';
import { newTransactionId, notifyPaid } from './signed-notify';

export interface Receipt {
    headers: Http.IncomingHttpHeaders;
    rawBody: string;
    body: any;
    receivedAt: number;
}

/** What the receiver answers a request: a status (and body), or nothing at all (`hang`). */
export type Answer = { status: number; body?: string } | 'hang';

/** A real HTTP receiver on an ephemeral port that keeps every request and answers as `answer` says. */
export class Receiver {
    readonly receipts: Receipt[] = [];
    answer: (receipt: Receipt) => Answer = () => ({ status: 200, body: 'ok' });
    private readonly server = Http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
            const rawBody = Buffer.concat(chunks).toString('utf8');
            let body: any;
            try {
                body = JSON.parse(rawBody);
            }
            catch { }

            const receipt = { headers: request.headers, rawBody, body, receivedAt: Date.now() };
            this.receipts.push(receipt);
            const answer = this.answer(receipt);
            if (answer !== 'hang') {
                response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
            }
        });
    });

    async start(): Promise<this> {
        await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        return this;
    }

    get url(): string {
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    }

    ofEvent(eventId: string): Receipt[] {
        return this.receipts.filter((receipt) => receipt.body?.id === eventId);
    }

    stop(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

/** POST /merchant/webhooks as the owner; throws unless 201. */
export async function registerEndpoint(app: TestApp, owner: StaffLogin, url: string, eventTypes: string[] = ['order.paid', 'order.closed', 'order.refund_required', 'order.refunded']) {
    const res = await merchant(app, owner, 'POST', '/merchant/webhooks', { url, eventTypes });
    if (res.statusCode !== 201) {
        throw new Error(`webhook registration failed: ${res.statusCode} ${JSON.stringify(res.body)}`);
    }

    return res.body as { id: number; secret: string };
}

/** An order paid by a signed notification, as WeChat would send it. */
export async function paidOrder(app: TestApp) {
    const made = await unpaidOrder(app);
    await pay(app, made.user, made.order.id);
    const res = await notifyPaid(app, { outTradeNo: made.order.outTradeNo, totalFee: made.order.totalFee, transactionId: newTransactionId() });
    if (res.statusCode !== 200) {
        throw new Error(`notify failed: ${res.statusCode} ${res.payload}`);
    }

    return made;
}

/** One pass of the webhook jobs at `now`, collecting what they log. */
export async function runJobs(app: TestApp, now = new Date(), logs: string[] = []): Promise<string[]> {
    await runWebhookJobs(app.context, now, (message) => logs.push(message));
    return logs;
}

export function deliveriesOf(app: TestApp, owner: StaffLogin, endpointId: number) {
    return json(app.server, { method: 'GET', url: `/merchant/webhooks/${endpointId}/deliveries?limit=100`, headers: owner.auth });
}

/** hex HMAC-SHA256(secret, "<t>.<raw body>"), written here apart from lib/webhooks/signature.ts. */
export function expectedSignature(secret: string, t: string, rawBody: string): string {
    return Crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`${t}.${rawBody}`, 'utf8')).digest('hex');
}

/** The header split as a receiver would: `t` and every `v1`. */
export function parseSignature(header: string | string[] | undefined): { t: string; v1: string[] } {
    const parts = String(header).split(',').map((part) => part.split('='));
    return { t: parts.find(([key]) => key === 't')?.[1] ?? '', v1: parts.filter(([key]) => key === 'v1').map(([, value]) => value) };
}

export const webhookTestEnv = { WEBHOOK_ALLOW_PRIVATE: 'true' };
