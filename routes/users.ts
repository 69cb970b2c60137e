import * as Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import * as Joi from 'joi';

import { issueToken } from '../lib/auth/tokens';
import type { AppContext } from '../lib/context';
import { LoginFailure, WechatLoginError } from '../lib/wechat/login';
import { upsertUser } from '../lib/users';
import { rateLimited } from '../plugins/rate-limit';
import * as Schemas from './schemas';

const statusOf: Record<LoginFailure, (message: string) => Boom.Boom> = {
    invalid_code: (message) => Boom.unauthorized(message),
    rate_limited: (message) => Boom.tooManyRequests(message),
    blocked: (message) => Boom.forbidden(message),
    unavailable: (message) => Boom.serverUnavailable(message),
    misconfigured: (message) => Boom.badGateway(message)
};

const clientMessages: Record<LoginFailure, string> = {
    invalid_code: 'The login code is invalid, expired or already used: call wx.login() again',
    rate_limited: 'WeChat is rate limiting logins, try again in a minute',
    blocked: 'WeChat refused this login (risky user)',
    unavailable: 'WeChat is unavailable, try again shortly',
    misconfigured: 'WeChat rejected the login request; the operator has been told'
};

export const userRoutes: Plugin<AppContext> = {
    name: 'wxshop-routes-users',
    register(server, context) {
        server.route({
            method: 'POST',
            path: '/users/login',
            options: {
                tags: ['api', 'users'],
                description: 'Log in with a wx.login() code',
                notes: 'Exchanges the code at WeChat (jscode2session) for the openid, creates the user on first login and returns a JWT. ' +
                    'A code works once and for 5 minutes.',
                plugins: rateLimited(context.config.rateLimit.loginPerMinute),
                validate: {
                    payload: Joi.object({
                        code: Joi.string().trim().min(1).max(128).required().description('the code from wx.login()').example('0a3Xyz000abcDEF1abcdef0000aBcDeFg')
                    }).label('LoginRequest')
                },
                response: {
                    status: {
                        200: Joi.object({
                            token: Joi.string().required().description('send as Authorization: Bearer <token>'),
                            expiresIn: Joi.number().integer().required().description('seconds').example(7200),
                            user: Joi.object({ id: Schemas.id.required() }).label('UserRef')
                        }).label('LoginResponse'),
                        ...Schemas.errors(400, 401, 403, 429, 502, 503)
                    }
                }
            },
            handler: async (request) => {
                const { code } = request.payload as { code: string };
                try {
                    const session = await context.login.code2Session(code);
                    const user = await upsertUser(context.models, session);
                    return { ...issueToken(context.config.jwt, user.id), user: { id: user.id } };
                }
                catch (err) {
                    if (!(err instanceof WechatLoginError)) {
                        throw err;
                    }

                    const level = err.failure === 'unavailable' || err.failure === 'misconfigured' ? 'error' : 'info';
                    request.log([level, 'login'], err.message);
                    throw statusOf[err.failure](clientMessages[err.failure]);
                }
            }
        });
    }
};
