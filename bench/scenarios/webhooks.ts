/**
 * Webhook delivery: the delivery job (lib/webhooks/deliver.ts: claim each due delivery with a conditional UPDATE,
 * sign, POST to the checked address, log the attempt, mark it delivered) against a bare loop of signed HTTP POSTs
 * of the same body to the same receiver (a plain Node server answering 204). Both run in the runner process, with
 * `connections` in flight: the job is not an HTTP route of the app. No target is set. Afterwards every delivery
 * the job counted must be `succeeded` in the database, and every request the receiver got must verify.
 */
import * as Crypto from 'crypto';
import * as Http from 'http';
import type { AddressInfo } from 'net';

import { Op } from 'sequelize';

import type { WebhookConfig } from '../../config';
import { deliverDue } from '../../lib/webhooks/deliver';
import { deriveSecret, newSecretSalt } from '../../lib/webhooks/secrets';
import { signatureHeaderValue } from '../../lib/webhooks/signature';
import { verifyWebhook } from '../../lib/webhooks/verify';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../../models';
import { newEventId } from '../../lib/webhooks/outbox';
import type { Measurement } from '../load';
import type { BenchContext, ScenarioResult } from './types';

/** A body of the size an order.paid event has (one order of two lines). */
function eventBody(id: string): string {
    return JSON.stringify({
        id, type: 'order.paid', createdAt: new Date().toISOString(),
        data: { object: { id: 1, outTradeNo: '20261201120000aB3dE5fG7hJ9kL1m', status: 'paid', totalFee: 3980,
            items: [{ goodsId: 1, name: 'Bench goods 1', price: 1990, count: 1 }, { goodsId: 2, name: 'Bench goods 2', price: 1990, count: 1 }],
            createdAt: new Date().toISOString(), expiresAt: new Date().toISOString(), tradeType: 'JSAPI', paidAt: new Date().toISOString(),
            transactionId: '4200001234567890123456789012', closedAt: null, refundRequired: false } }
    });
}

class CountingReceiver {
    received = 0;
    unverified = 0;
    private readonly server: Http.Server;

    constructor(secret: string) {
        this.server = Http.createServer((request, response) => {
            const chunks: Buffer[] = [];
            request.on('data', (chunk: Buffer) => chunks.push(chunk));
            request.on('end', () => {
                ++this.received;
                if (!verifyWebhook(Buffer.concat(chunks), request.headers['wxshop-signature'], [secret]).valid) {
                    ++this.unverified;
                }

                response.writeHead(204).end();
            });
        });
    }

    async start(): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    }

    stop(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

function measurement(label: string, latencies: number[], seconds: number, cpu: NodeJS.CpuUsage, problems: string[]): Measurement {
    const sorted = Float64Array.from(latencies).sort();
    const at = (p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
    return {
        label, rps: latencies.length / seconds, p50: at(50), p99: at(99), total: latencies.length, errors: 0, non2xx: 0, mismatches: 0,
        statusCodes: {}, problems, ranDry: false, cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / latencies.length
    };
}

/** Pending deliveries of `count` dispatched events to the endpoint, due now. */
async function prepareDeliveries(endpointId: number, count: number): Promise<void> {
    for (let offset = 0; offset < count; offset += 500) {
        const events = await WebhookEvent.bulkCreate(Array.from({ length: Math.min(500, count - offset) }, () => {
            const publicId = newEventId();
            return { publicId, type: 'order.paid', orderId: null, payload: eventBody(publicId), dispatchedAt: new Date() };
        }), { returning: true });
        const ids = events[0]?.id ? events.map((event) => event.id) : (await WebhookEvent.findAll({ where: { publicId: events.map((event) => event.publicId) }, attributes: ['id'] })).map((event) => event.id);
        const now = new Date();
        await WebhookDelivery.bulkCreate(ids.map((eventId) => ({ eventId, endpointId, status: 'pending' as const, nextAttemptAt: now, giveUpAt: new Date(now.getTime() + 86400_000) })));
    }
}

export async function webhooksScenario(context: BenchContext): Promise<ScenarioResult> {
    const { options } = context;
    const config: WebhookConfig = {
        allowPrivate: true, requireHttps: false, secretKey: Crypto.randomBytes(32).toString('hex'), secretOverlapSeconds: 0,
        attemptTimeoutMs: 10_000, retryForSeconds: 3 * 86400, disableAfterSeconds: 5 * 86400, concurrency: Math.min(options.connections, 100)
    };
    const salt = newSecretSalt();
    const secret = deriveSecret(config.secretKey, salt);
    const receiver = new CountingReceiver(secret);
    const url = await receiver.start();
    try {
        const endpoint = await WebhookEndpoint.create({ url, eventTypes: 'order.paid', secretSalt: salt, createdBy: 0 });

        // the job: passes of claim-and-deliver until the clock runs out
        const deliverFor = async (seconds: number, label: string) => {
            await prepareDeliveries(endpoint.id, Math.max(2000, options.connections * 40) * seconds);
            const before = await WebhookDelivery.count({ where: { status: 'succeeded' } });
            const cpuBefore = process.cpuUsage();
            const started = performance.now();
            const passes: number[] = [];
            let attempted = 0;
            while (performance.now() - started < seconds * 1000) {
                const passStarted = performance.now();
                const count = await deliverDue(WebhookDelivery.sequelize!, config, new Date(), config.concurrency * 4, (message) => context.log(message));
                if (count === 0) {
                    break;
                }

                attempted += count;
                const passMs = performance.now() - passStarted;
                passes.push(...Array.from({ length: count }, () => passMs));
            }

            const elapsed = (performance.now() - started) / 1000;
            const cpu = process.cpuUsage(cpuBefore);
            const delivered = await WebhookDelivery.count({ where: { status: 'succeeded' } }) - before;
            const problems = delivered === attempted ? [] : [`${attempted} attempted but ${delivered} succeeded`];
            if (await WebhookDelivery.count({ where: { status: 'pending', attempts: { [Op.gt]: 0 } } })) {
                problems.push('some deliveries failed and wait for a retry');
            }

            // p50/p99: the duration of the pass each delivery was in (its claim and every attempt of the pass), an upper bound
            return measurement(label, passes.slice(0, delivered), elapsed, cpu, problems);
        };

        const bareFor = async (seconds: number, label: string) => {
            const latencies: number[] = [];
            const cpuBefore = process.cpuUsage();
            const started = performance.now();
            const failures: string[] = [];
            await Promise.all(Array.from({ length: config.concurrency }, async () => {
                while (performance.now() - started < seconds * 1000) {
                    const body = eventBody(newEventId());
                    const begun = performance.now();
                    const status = await new Promise<number>((resolve) => {
                        const request = Http.request(url, {
                            method: 'POST', agent: false,
                            headers: { 'content-type': 'application/json', 'wxshop-signature': signatureHeaderValue([secret], Math.floor(Date.now() / 1000), body) }
                        }, (response) => {
                            response.resume();
                            response.on('end', () => resolve(response.statusCode ?? 0));
                        });
                        request.on('error', () => resolve(0));
                        request.end(body);
                    });
                    if (status !== 204) {
                        failures.push(String(status));
                    }

                    latencies.push(performance.now() - begun);
                }
            }));
            const elapsed = (performance.now() - started) / 1000;
            return measurement(label, latencies, elapsed, process.cpuUsage(cpuBefore), failures.length ? [`${failures.length} POSTs failed`] : []);
        };

        context.log('webhooks: warm-up');
        await deliverFor(options.warmup || 1, 'warm-up');
        await bareFor(options.warmup || 1, 'warm-up');
        context.log('webhooks: measuring the bare POST loop, then the delivery job');
        const baseline = await bareFor(options.duration, `bare signed POST loop, ${config.concurrency} in flight`);
        const measured = await deliverFor(options.duration, `delivery job (deliverDue), ${config.concurrency} in flight`);
        if (receiver.unverified) {
            measured.problems.push(`${receiver.unverified} requests did not verify`);
        }

        return { name: 'webhooks', app: measured, baseline, notes: [`${receiver.received} requests received, all verified: ${receiver.unverified === 0}`] };
    }
    finally {
        await receiver.stop();
    }
}
