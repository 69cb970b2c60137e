import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';

import type { AppContext } from '../lib/context';
import { handlePushEvent } from '../lib/shipping/push-events';
import { openPush, PushRejected, verifyHandshake } from '../lib/wechat/push-envelope';

/** WeChat's message push (reference wechat-miniprogram-ops §3): the URL configured in the MP console. */
export const wechatPushRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-wechat-push',
    register(server, { config, ops }) {
        const refuse = (err: unknown): never => {
            if (err instanceof PushRejected) {
                ops.log('warn', `message push refused: ${err.message}`);
                throw new Boom.Boom(err.message, { statusCode: err.status });
            }

            throw err;
        };

        server.route({
            method: 'GET',
            path: '/wechat/push',
            options: { auth: false, tags: ['api', 'wechat'], description: "WeChat's verification of the push URL: answers echostr when the signature verifies" },
            handler: (request, h) => {
                try {
                    return h.response(verifyHandshake(config.ops.push, request.query as Record<string, string>)).type('text/plain');
                }
                catch (err) {
                    return refuse(err);
                }
            }
        });

        server.route({
            method: 'POST',
            path: '/wechat/push',
            options: {
                auth: false,
                tags: ['api', 'wechat'],
                description: "WeChat's server events (trade management): plaintext or safe mode, JSON or XML as configured",
                notes: 'Answers `success` once the event is handled; a signature that does not verify is a 401 and changes nothing.',
                payload: { parse: false, output: 'data', allow: ['application/json', 'text/xml', 'application/xml', 'text/plain'] }
            },
            handler: async (request, h) => {
                let event: Record<string, unknown>;
                try {
                    event = await openPush(config.ops.push, config.wechat.appId, request.query as Record<string, string>, (request.payload as Buffer | null)?.toString('utf8') ?? '');
                }
                catch (err) {
                    return refuse(err);
                }

                await handlePushEvent(ops, event);
                return h.response('success').type('text/plain');
            }
        });
    }
};
