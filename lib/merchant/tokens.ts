import * as Jwt from 'jsonwebtoken';

import type { Config } from '../../config';
import { jwtAlgorithm, jwtKey } from '../auth/tokens';

/** A staff token: the buyers' key and issuer, but the merchant audience, so it opens no buyer route. */
export function issueStaffToken(config: Config, staffId: number): { token: string; expiresIn: number } {
    const ttl = config.merchant.tokenTtlSeconds;
    const token = Jwt.sign({}, jwtKey(config.jwt.secret), {
        algorithm: jwtAlgorithm,
        expiresIn: ttl,
        issuer: config.jwt.issuer,
        audience: config.merchant.audience,
        subject: String(staffId)
    });
    return { token, expiresIn: ttl };
}

/** The staff id of a valid staff token, or undefined (bad signature, algorithm, issuer, audience or expiry). */
export function verifyStaffToken(config: Config, token: string): number | undefined {
    try {
        const claims = Jwt.verify(token, jwtKey(config.jwt.secret), {
            algorithms: [jwtAlgorithm],
            issuer: config.jwt.issuer,
            audience: config.merchant.audience
        }) as Jwt.JwtPayload;
        const id = Number(claims.sub);
        return typeof claims.exp === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
    }
    catch {
        return undefined;
    }
}
