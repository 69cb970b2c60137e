import * as Jwt from 'jsonwebtoken';

import type { Config } from '../../config';

export interface TokenClaims {
    sub: string;
    exp: number;
    iss: string;
    aud: string;
}

/** HS256 only: the algorithm is pinned on both sides, so `alg: none` and HS/RS confusion have nothing to work with. */
export const jwtAlgorithm = 'HS256';

export function issueToken(jwt: Config['jwt'], userId: number): { token: string; expiresIn: number } {
    const token = Jwt.sign({}, jwt.secret, {
        algorithm: jwtAlgorithm,
        expiresIn: jwt.ttlSeconds,
        issuer: jwt.issuer,
        audience: jwt.audience,
        subject: String(userId)
    });
    return { token, expiresIn: jwt.ttlSeconds };
}
