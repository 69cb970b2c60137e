import * as Crypto from 'crypto';

/**
 * An endpoint's signing secret is derived, not stored: HMAC-SHA256(WEBHOOK_SECRET_KEY, salt), with a random salt
 * per endpoint and rotation kept in the row. A copy of the database alone gives no secret, and nothing needs
 * decrypting; changing WEBHOOK_SECRET_KEY changes every endpoint's secret (rotate them all afterwards).
 */
export function newSecretSalt(): string {
    return Crypto.randomBytes(24).toString('base64url');
}

export function deriveSecret(secretKey: string, salt: string): string {
    return `whsec_${Crypto.createHmac('sha256', secretKey).update(`wxshop webhook secret:${salt}`).digest('base64url')}`;
}

/** The secrets that sign deliveries now: the current one, and the previous one during a rotation's overlap. */
export function signingSecrets(secretKey: string, endpoint: { secretSalt: string; previousSecretSalt: string | null; previousSecretExpiresAt: Date | null }, now: Date): string[] {
    const secrets = [deriveSecret(secretKey, endpoint.secretSalt)];
    if (endpoint.previousSecretSalt && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt.getTime() > now.getTime()) {
        secrets.push(deriveSecret(secretKey, endpoint.previousSecretSalt));
    }

    return secrets;
}
