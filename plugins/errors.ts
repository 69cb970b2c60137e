import * as Boom from '@hapi/boom';
import type { Lifecycle, Plugin } from '@hapi/hapi';
import { BaseError, ConnectionError, TimeoutError } from 'sequelize';

/** Route validation failures answer 400 with Joi's own words, so a client developer can act on them. */
export const failAction: Lifecycle.Method = (_request, _h, err) => {
    throw Boom.badRequest(err?.message ?? 'Invalid request');
};

/**
 * A database that is away answers 503 (with Retry-After) instead of a 500, and every 5xx is logged with what a
 * person needs to act on it.
 */
export const errorsPlugin: Plugin<void> = {
    name: 'wxshop-errors',
    register(server) {
        server.ext('onPreResponse', (request, h) => {
            const response = request.response;
            if (!Boom.isBoom(response)) {
                return h.continue;
            }

            if (isDatabaseUnavailable(response)) {
                request.log(['error', 'database'], `database unavailable: ${response.message}`);
                return h.response({ statusCode: 503, error: 'Service Unavailable', message: 'The database is unavailable, try again shortly' })
                    .code(503)
                    .header('Retry-After', '5');
            }

            if (response.isServer) {
                request.log(['error'], response);
            }

            return h.continue;
        });
    }
};

/** What the drivers say when a connection died under a query (pg, mysql2, sqlite3). */
const lostConnection = /Connection terminated|Connection lost|connection is closed|closed state|server has gone away|terminating connection|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|PROTOCOL_CONNECTION_LOST|SQLITE_CANTOPEN|SQLITE_IOERR/i;

function isDatabaseUnavailable(error: Error): boolean {
    if (error instanceof ConnectionError || error instanceof TimeoutError) {
        return true;
    }

    const original = (error as { original?: { code?: string; message?: string } }).original;
    return error instanceof BaseError && original !== undefined && lostConnection.test(`${original.code ?? ''} ${original.message ?? ''}`);
}
