import { createSecretKey, KeyObject } from 'crypto';

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

const keys = new Map<string, KeyObject>();

/**
 * The secret as a KeyObject, made once: given a string, jsonwebtoken first tries to parse it as a PEM key on
 * every sign and verify (about 1 ms each), then falls back. The bytes are the same, so tokens are unchanged.
 */
export function jwtKey(secret: string): KeyObject {
    let key = keys.get(secret);
    if (!key) {
        key = createSecretKey(Buffer.from(secret, 'utf8'));
        keys.set(secret, key);
    }

    return key;
}

export function issueToken(jwt: Config['jwt'], userId: number): { token: string; expiresIn: number } {
    const token = Jwt.sign({}, jwtKey(jwt.secret), {
        algorithm: jwtAlgorithm,
        expiresIn: jwt.ttlSeconds,
        issuer: jwt.issuer,
        audience: jwt.audience,
        subject: String(userId)
    });
    return { token, expiresIn: jwt.ttlSeconds };
}
