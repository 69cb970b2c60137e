import type { Plugin } from '@hapi/hapi';
import * as HapiPino from 'hapi-pino';

/**
 * Structured logs with the request id on every line. Tokens, login codes, signatures and secrets are redacted
 * wherever they appear in a logged object.
 */
export const redactedPaths = [
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    '*.code',
    '*.js_code',
    '*.secret',
    '*.sign',
    '*.paySign',
    '*.token',
    '*.apiKey',
    '*.key',
    '*.password'
];

export const loggingPlugin: Plugin<{ level: string }> = {
    name: 'wxshop-logging',
    async register(server, { level }) {
        await server.register({
            plugin: HapiPino,
            options: {
                level,
                redact: { paths: redactedPaths, censor: '[redacted]' },
                ignorePaths: ['/health'],
                ignoreTags: ['sandbox'],
                logRequestStart: false,
                logRequestComplete: true,
                getChildBindings: (request) => ({ reqId: request.info.id }),
                // A client hanging up (ECONNRESET) or sending bytes that are not HTTP is the client's problem, not
                // an error of ours: hapi-pino would log it at error level, so it is logged below at debug instead.
                ignoredEventTags: { log: ['client'] } as object as object[]      // its typings disagree with its code
            }
        });

        server.events.on({ name: 'log', filter: { tags: ['connection', 'client'], all: true } }, (event) => {
            server.logger.debug({ err: event.error, tags: event.tags }, 'client connection error');
        });
    }
};
