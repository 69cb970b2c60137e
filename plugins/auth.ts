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

/** The `jwt` strategy: a Bearer token in the Authorization header only (never the URL or a cookie, which get logged). */
export const authPlugin: Plugin<{ jwt: Config['jwt']; sequelize: Sequelize }> = {
    name: 'wxshop-auth',
    dependencies: [],
    async register(server, { jwt, sequelize }) {
        await server.register(HapiAuthJwt2);
        server.auth.strategy('jwt', 'jwt', {
            key: jwtKey(jwt.secret),
            tokenType: 'Bearer',
            urlKey: false,
            cookieKey: false,
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
    }
};
