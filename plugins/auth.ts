import * as Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';
import * as HapiAuthJwt2 from 'hapi-auth-jwt2';

import type { Sequelize } from 'sequelize';

import type { Config } from '../config';
import { jwtAlgorithm, jwtKey, TokenClaims } from '../lib/auth/tokens';
import { selectRows } from '../lib/sql';

export interface Credentials {
    userId: number;
    openid: string;
}

declare module '@hapi/hapi' {
    interface AuthCredentials {
        userId: number;
        openid: string;
    }
}

/** What a 401 says when the Authorization header is there but is not `Bearer <token>`. */
export const bearerHint = 'Send the token from POST /users/login as "Authorization: Bearer <token>"';

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. The scheme is matched
 * case-insensitively, as RFC 7235 says auth-schemes are; the rest is stricter than the RFC's `1*SP`: exactly one
 * space, then one b64token and nothing else (hapi-auth-jwt2's own parsing finds "Bearer" anywhere in the header).
 */
export function bearerToken(header: string | undefined): string | undefined {
    return /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header ?? '')?.[1];
}

/** The `jwt` strategy: a Bearer token in the Authorization header only (never the URL or a cookie, which get logged). */
export const authPlugin: Plugin<{ jwt: Config['jwt']; sequelize: Sequelize }> = {
    name: 'wxshop-auth',
    dependencies: [],
    async register(server, { jwt, sequelize }) {
        await server.register(HapiAuthJwt2);
        server.auth.strategy('jwt', 'jwt', {
            key: jwtKey(jwt.secret),
            tokenType: 'Bearer',
            headerKey: false,
            urlKey: false,
            cookieKey: false,
            payloadKey: false,
            customExtractionFunc: (request: Request) => bearerToken(request.headers.authorization as string | undefined) ?? '',
            verifyOptions: { algorithms: [jwtAlgorithm], issuer: jwt.issuer, audience: jwt.audience },
            validate: async (decoded: Partial<TokenClaims>, _request: Request) => {
                const userId = Number(decoded.sub);
                if (typeof decoded.exp !== 'number' || !Number.isSafeInteger(userId)) {
                    return { isValid: false };
                }

                // Every authenticated request asks, so a deleted user's tokens stop working at once (raw SQL: lib/sql.ts).
                const [user] = await selectRows<{ openid: string }>(sequelize, 'SELECT openid FROM users WHERE id = $1', [userId]);
                return user ? { isValid: true, credentials: { userId, openid: user.openid } } : { isValid: false };
            }
        });

        // hapi answers "Missing authentication" when no strategy found a token; a header that is there but not
        // `Bearer <token>` (a bare token, another scheme) is told how to send it.
        server.ext('onPreResponse', (request, h) => {
            const response = request.response;
            if (Boom.isBoom(response) && response.output.statusCode === 401 && request.headers.authorization !== undefined &&
                response.output.payload.message === 'Missing authentication') {
                response.output.payload.message = bearerHint;
            }

            return h.continue;
        });
    }
};
