import * as Http from 'http';
import * as Https from 'https';

export interface PostResult {
    statusCode: number | null;
    /** The first characters of the answer (UTF-8), for the delivery log. */
    snippet: string | null;
    error: string | null;
    latencyMs: number;
}

const snippetBytes = 512;

/**
 * POSTs a body to `url`, connecting to `address` (the one checked against SSRF, not whatever DNS says at connect
 * time). The whole attempt (connect, send, answer head and the snippet) must end within `timeoutMs`. Redirects are
 * not followed. Never throws.
 */
export function postTo(url: URL, address: { address: string; family: 4 | 6 }, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostResult> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
    const transport = url.protocol === 'https:' ? Https : Http;

    return new Promise((resolve) => {
        let settled = false;
        const finish = (result: Omit<PostResult, 'latencyMs'>) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                request.destroy();
                resolve({ ...result, latencyMs: elapsed() });
            }
        };

        const request = transport.request({
            method: 'POST',
            host: address.address,
            family: address.family,
            port: url.port || (url.protocol === 'https:' ? 443 : 80),
            path: `${url.pathname}${url.search}`,
            servername: url.protocol === 'https:' && !url.hostname.startsWith('[') ? url.hostname : undefined,
            headers: { ...headers, host: url.host, 'content-length': String(Buffer.byteLength(body)) },
            agent: false
        }, (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            const done = () => finish({ statusCode: response.statusCode ?? null, snippet: Buffer.concat(chunks).toString('utf8').slice(0, snippetBytes), error: null });
            response.on('data', (chunk: Buffer) => {
                chunks.push(chunk);
                size += chunk.length;
                if (size >= snippetBytes) {
                    done();
                }
            });
            response.on('end', done);
            response.on('error', done);
        });
        const timer = setTimeout(() => finish({ statusCode: null, snippet: null, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
        request.on('error', (err: NodeJS.ErrnoException) => finish({ statusCode: null, snippet: null, error: `${err.code ?? 'error'}: ${err.message}`.slice(0, 255) }));
        request.end(body);
    });
}
