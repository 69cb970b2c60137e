import type { Plugin, Request } from '@hapi/hapi';
import * as HapiAuthJwt2 from 'hapi-auth-jwt2';

import type { Config } from '../config';
import { jwtAlgorithm, jwtKey, TokenClaims } from '../lib/auth/tokens';
import type { Models } from '../models';

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
export const authPlugin: Plugin<{ jwt: Config['jwt']; models: Models }> = {
    name: 'wxshop-auth',
    dependencies: [],
    async register(server, { jwt, models }) {
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

                const user = await models.User.findByPk(userId, { attributes: ['id', 'openid'] });
                return user ? { isValid: true, credentials: { userId: user.id, openid: user.openid } } : { isValid: false };
            }
        });
    }
};
