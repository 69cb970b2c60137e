// npm run webhook-receiver   (WXSHOP_WEBHOOK_SECRET=whsec_… [WXSHOP_WEBHOOK_PREVIOUS_SECRET=…] [WEBHOOK_RECEIVER_PORT=4000])
// A tiny receiver for the demo: verifies each delivery's Wxshop-Signature, prints the event, and answers 204
// (400 for a signature that does not verify). Events seen before (by id) are printed as duplicates, not again.
import * as Http from 'http';
import type { AddressInfo } from 'net';

import { verifyWebhook } from '../lib/webhooks/verify';

const secrets = [process.env.WXSHOP_WEBHOOK_SECRET, process.env.WXSHOP_WEBHOOK_PREVIOUS_SECRET].filter((secret): secret is string => Boolean(secret));
if (!secrets.length) {
    process.stderr.write('WXSHOP_WEBHOOK_SECRET must be the secret POST /merchant/webhooks answered\n');
    process.exit(2);
}

const seen = new Set<string>();
const server = Http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        const result = verifyWebhook(rawBody, request.headers['wxshop-signature'], secrets);
        if (!result.valid) {
            process.stdout.write(`refused a delivery: ${result.reason}\n`);
            response.writeHead(400).end(result.reason);
            return;
        }

        const event = JSON.parse(rawBody.toString('utf8'));
        const duplicate = seen.has(event.id);
        seen.add(event.id);
        process.stdout.write(`${duplicate ? 'duplicate' : 'verified'} ${event.type} ${event.id} ${JSON.stringify(event.data.object)}\n`);
        response.writeHead(204).end();
    });
});

server.listen(Number(process.env.WEBHOOK_RECEIVER_PORT ?? 4000), process.env.HOST ?? '127.0.0.1', () => {
    const { address, port } = server.address() as AddressInfo;
    process.stdout.write(`webhook receiver listening on http://${address}:${port}/\n`);
});
