import * as Http from 'http';
import type { Socket } from 'net';

import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';

/**
 * The listener for createServer: Node answers and closes a connection whose request's headers and body have not
 * all arrived within `requestTimeoutMs` (a handler that takes long is not affected once the body is in). It checks
 * every connectionsCheckingInterval, so the answer comes at most a second late. hapi's own payload timeout is off
 * (app.ts): it answers only once the body it timed out on has arrived, since it drains the request first.
 */
export function requestTimeoutListener(requestTimeoutMs: number): Http.Server {
    return Http.createServer({
        requestTimeout: requestTimeoutMs,
        headersTimeout: Math.min(60_000, requestTimeoutMs),
        connectionsCheckingInterval: Math.min(1000, requestTimeoutMs)
    });
}

const timedOut = new WeakSet<Socket>();

/**
 * hapi answers every client error on a connection it has a request for with a bare 400; a request cut by the
 * listener's requestTimeout is answered 408, saying why, instead.
 */
export const requestTimeoutPlugin: Plugin<void> = {
    name: 'wxshop-request-timeout',
    register(server) {
        // Before hapi's own clientError listener, which answers at once.
        server.listener.prependListener('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
            if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
                timedOut.add(socket);
            }
        });

        server.ext('onPreResponse', (request, h) => {
            if (!Boom.isBoom(request.response) || !timedOut.has(request.raw.req.socket)) {
                return h.continue;
            }

            const timeout = Boom.clientTimeout('The request did not arrive in time: send its headers and body within REQUEST_TIMEOUT_MS');
            timeout.output.headers.connection = 'close';
            throw timeout;
        });
    }
};
