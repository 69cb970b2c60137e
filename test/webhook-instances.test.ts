import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { buildApp } from '../app';
import { loadConfig } from '../config';
import { runWebhookJobs } from '../lib/webhooks/job';
import { signatureHeaderValue } from '../lib/webhooks/signature';
import { WebhookAttempt, WebhookDelivery, WebhookEvent } from '../models';
import { eventually, startApp, testEnv, TestApp } from './helpers';
import { staffLogin } from './merchant-helpers';
import { appEnv, freePort, killAll, randomCredentials, spawnApp, spawnNode } from './process/harness';
import { paidOrder, Receiver, registerEndpoint } from './webhook-helpers';

const { expect } = Code;
const { describe, it, afterEach } = exports.lab = Lab.script();

/** Every instance must derive the same endpoint secrets. */
function sharedWebhookEnv(): Record<string, string> {
    return { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_SECRET_KEY: Crypto.randomBytes(32).toString('hex') };
}

describe('webhooks across instances', () => {

    let stops: Array<() => Promise<unknown>> = [];
    let receiver: Receiver | undefined;

    afterEach(async () => {
        await killAll();
        for (const stop of stops.reverse()) {
            await stop();
        }

        stops = [];
        await receiver?.stop();
        receiver = undefined;
    });

    it('three instances on one database deliver each event exactly once', { timeout: 120_000 }, async () => {
        const shared = { ...sharedWebhookEnv(), JOBS: 'true', JOBS_INTERVAL_MS: '20' };
        const first: TestApp = await startApp(shared);
        stops.push(first.stop);
        for (let i = 0; i < 2; ++i) {
            const { server } = await buildApp(loadConfig(testEnv({ ...shared, DATABASE_URL: first.config.database.url })));
            await server.start();
            stops.push(() => server.stop({ timeout: 1000 }));
        }

        receiver = await new Receiver().start();
        const owner = await staffLogin(first, 'owner');
        await registerEndpoint(first, owner, receiver.url);
        const orders = 24;
        for (let i = 0; i < orders; ++i) {
            await paidOrder(first);
        }

        const events = await WebhookEvent.findAll({ attributes: ['id', 'publicId'] });
        expect(events).to.have.length(orders);
        await eventually(async () => await WebhookDelivery.count({ where: { status: 'succeeded' } }) === orders, 'every delivery to succeed', 60_000);
        // a pass more of every instance: nothing is sent again
        await new Promise((resolve) => setTimeout(resolve, 300));

        for (const event of events) {
            expect(receiver.ofEvent(event.publicId), event.publicId).to.have.length(1);
        }

        expect(receiver.receipts).to.have.length(orders);
        expect(await WebhookDelivery.count()).to.equal(orders);
        expect(await WebhookAttempt.count()).to.equal(orders);
    });

    it('loses no event when the delivering instance is killed mid-delivery: another delivers once the claim lapses', { timeout: 180_000 }, async () => {
        const shared = sharedWebhookEnv();
        const app = await startApp(shared);
        stops.push(app.stop);
        receiver = await new Receiver().start();
        const owner = await staffLogin(app, 'owner');
        const { id: endpointId } = await registerEndpoint(app, owner, receiver.url);
        const orders = 4;
        for (let i = 0; i < orders; ++i) {
            await paidOrder(app);
        }

        // the child dispatches the events and claims their deliveries; the receiver holds every request open
        receiver.answer = () => 'hang';
        const port = await freePort();
        const child = await spawnApp('webhook instance', appEnv(randomCredentials(), {
            port, databaseUrl: app.config.database.url, simBase: `${app.base}/sandbox`, jobs: true, jobsIntervalMs: 50, extra: shared
        }));
        await eventually(() => receiver!.receipts.length === orders, 'the child to send every event', 60_000);
        child.kill('SIGKILL');
        await child.exited;

        const claimed = await WebhookDelivery.findAll({ where: { endpointId } });
        expect(claimed).to.have.length(orders);
        expect(claimed.every((delivery) => delivery.status === 'pending' && delivery.claimedUntil!.getTime() > Date.now())).to.be.true();
        expect(await WebhookAttempt.count()).to.equal(0);

        // before the claims lapse nobody else touches them; after, this instance delivers each once
        receiver.answer = () => ({ status: 200 });
        await runWebhookJobs(app.context, new Date(), () => {});
        expect(receiver.receipts).to.have.length(orders);
        const lapsed = new Date(Math.max(...claimed.map((delivery) => delivery.claimedUntil!.getTime())) + 1000);
        await runWebhookJobs(app.context, lapsed, () => {});

        const events = await WebhookEvent.findAll();
        expect(events).to.have.length(orders);
        for (const event of events) {
            expect(receiver.ofEvent(event.publicId)).to.have.length(2);
            const [delivery] = await WebhookDelivery.findAll({ where: { eventId: event.id } });
            expect(delivery.status).to.equal('succeeded');
            expect(await WebhookAttempt.count({ where: { deliveryId: delivery.id, succeeded: true } })).to.equal(1);
        }
    });
});

describe('the demo receiver (npm run webhook-receiver)', () => {

    afterEach(() => killAll());

    it('verifies and prints a real delivery, and refuses one signed with another secret', { timeout: 120_000 }, async () => {
        const shared = sharedWebhookEnv();
        const app = await startApp(shared);
        try {
            const owner = await staffLogin(app, 'owner');
            const port = await freePort();
            const { secret } = await registerEndpoint(app, owner, `http://127.0.0.1:${port}/`, ['order.paid']);
            const child = await spawnNode('webhook receiver', 'scripts/webhook-receiver.ts', { WXSHOP_WEBHOOK_SECRET: secret, WEBHOOK_RECEIVER_PORT: String(port) },
                /webhook receiver listening on (http:\/\/\S+)/);
            const { order } = await paidOrder(app);
            const event = (await WebhookEvent.findOne({ where: { orderId: order.id } }))!;
            await runWebhookJobs(app.context, new Date(), () => {});
            await eventually(() => child.output().includes(`verified order.paid ${event.publicId}`), 'the receiver to print the event', 10_000);
            const [delivery] = await WebhookDelivery.findAll({ where: { eventId: event.id } });
            expect(delivery.status).to.equal('succeeded');
            expect(delivery.lastStatusCode).to.equal(204);

            const forged = await fetch(`http://127.0.0.1:${port}/`, {
                method: 'POST', body: '{"id":"evt_forged"}',
                headers: { 'wxshop-signature': signatureHeaderValue(['whsec_not-the-secret'], Math.floor(Date.now() / 1000), '{"id":"evt_forged"}') }
            });
            expect(forged.status).to.equal(400);
            expect(child.output()).to.not.contain('evt_forged');
        }
        finally {
            await app.stop();
        }
    });
});

