import * as Boom from '@hapi/boom';
import { CatboxRedisOptions, Engine as CatboxRedis } from '@hapi/catbox-redis';
import type { Plugin, Request, ResponseToolkit } from '@hapi/hapi';
import * as HapiRateLimit from 'hapi-rate-limit';

import type { Config } from '../config';
import { peerAddress } from '../lib/client-ip';
import { maskCredentials } from '../lib/masked-url';
import { firstLine, StartupError } from '../lib/startup-error';

declare module '@hapi/hapi' {
    interface PluginSpecificConfiguration {
        'hapi-rate-limit'?: { enabled?: boolean; userPathLimit?: number | false };
    }
}

const pluginName = 'hapi-rate-limit';
const windowMs = 60_000;

/**
 * Rate limits with hapi-rate-limit, per route (see `rateLimited`): a caller is the user id on authenticated routes
 * and the client IP elsewhere. Counters live in Redis when REDIS_URL is set, so every instance shares them, and in
 * memory otherwise. A limited request gets 429 with Retry-After.
 */
export const rateLimitPlugin: Plugin<{ config: Config }> = {
    name: 'wxshop-rate-limit',
    async register(server, { config }) {
        const cache = sharedCacheName(config);
        if (cache) {
            await server.cache.provision({ name: cache, provider: { constructor: RateLimitRedis, options: { url: config.rateLimit.redisUrl, partition: 'wxshop' } as CatboxRedisOptions } });
        }

        const trusted = config.trustedProxies;
        if (trusted.length) {
            // hapi-rate-limit believes X-Forwarded-For from any peer once trustProxy is on: drop it unless it came
            // through a trusted proxy (lib/client-ip.ts applies the same rule to the payer's IP).
            server.ext('onRequest', (request, h) => {
                if (!trusted.includes(peerAddress(request))) {
                    delete request.headers['x-forwarded-for'];
                }

                return h.continue;
            });
        }

        await server.register({
            plugin: HapiRateLimit,
            options: {
                enabled: false,                 // opt in per route
                userLimit: false,
                pathLimit: false,
                authLimit: false,
                userPathLimit: false,
                userAttribute: 'userId',
                userPathCache: { segment: 'user-path', expiresIn: windowMs, ...(cache ? { cache } : {}) },
                trustProxy: trusted.length > 0,
                getIpFromProxyHeader: (header: string) => header.split(',').map((hop) => hop.trim()).reverse().find((hop) => !trusted.includes(hop)) ?? '',
                limitExceededResponse: tooManyRequests
            }
        });
    }
};

/** catbox-redis whose failure to connect at start names REDIS_URL instead of ioredis's "Connection is closed.". */
class RateLimitRedis extends CatboxRedis<any> {
    constructor(private readonly redisOptions: CatboxRedisOptions) {
        super(redisOptions);
    }

    async start(): Promise<void> {
        try {
            await super.start();
        }
        catch (err) {
            throw new StartupError('REDIS_URL', `no Redis answers at ${maskCredentials(this.redisOptions.url ?? '')} (${firstLine(err)})`,
                'start Redis there, or unset REDIS_URL to keep the rate-limit counters in memory (per instance)');
        }
    }
}

function tooManyRequests(request: Request, _h: ResponseToolkit) {
    const state = request.plugins[pluginName as keyof typeof request.plugins] as { userPathReset?: number } | undefined;
    const seconds = Math.max(1, Math.ceil(((state?.userPathReset ?? Date.now() + windowMs) - Date.now()) / 1000));
    const error = Boom.tooManyRequests(`Too many requests, try again in ${seconds} s`);
    error.output.headers['Retry-After'] = String(seconds);
    return error;
}

/** The Redis-backed catbox cache every instance shares when REDIS_URL is set (undefined: the server's memory cache). */
export function sharedCacheName(config: Config): string | undefined {
    return config.rateLimit.redisUrl ? 'rate-limit' : undefined;
}

/** Route options that limit each caller to `perMinute` requests a minute on this route. */
export function rateLimited(perMinute: number) {
    return { [pluginName]: { enabled: true, userPathLimit: perMinute } };
}
