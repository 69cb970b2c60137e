import * as Crypto from 'crypto';

import type { SimClock } from './clock';
import type { OpsSettings } from './ops-settings';

/**
 * Access tokens as WeChat issues them (reference wechat-miniprogram-ops §1.3, §1.5): `/cgi-bin/token` mints a new
 * token per call and the one before dies after the grace period; `stable_token` answers the same token until 5
 * minutes before its expiry, then its successor (both valid until their own expiry); `force_refresh` kills the
 * current stable token, at most 20 a day, and not again within 30 s.
 */

interface Issued {
    token: string;
    expiresAt: number;
    /** /cgi-bin/token: when a newer token superseded it. */
    supersededAt?: number;
}

const rotateWindowMs = 5 * 60_000;
const forceSpacingMs = 30_000;
const forcePerDay = 20;

export class OpsTokens {
    /** Calls received, for the tests (how many refreshes the instances made between them). */
    readonly calls = { token: 0, stableToken: 0, forceRefresh: 0 };
    private readonly plain: Issued[] = [];
    private stable?: Issued;
    private previousStable?: Issued;
    private forces: number[] = [];

    constructor(private readonly clock: SimClock, private readonly settings: OpsSettings) {}

    /** GET /cgi-bin/token: a new token; the previous one keeps working for the grace period only. */
    issuePlain(): Issued {
        ++this.calls.token;
        const now = this.clock.now();
        for (const issued of this.plain) {
            issued.supersededAt ??= now;
        }

        const fresh = this.mint(now);
        this.plain.push(fresh);
        return fresh;
    }

    /** POST /cgi-bin/stable_token; undefined when force_refresh is over its daily quota. */
    stableToken(forceRefresh: boolean): Issued | undefined {
        ++this.calls.stableToken;
        const now = this.clock.now();
        if (forceRefresh) {
            ++this.calls.forceRefresh;
            this.forces = this.forces.filter((at) => now - at < 86_400_000);
            if (this.forces.length >= forcePerDay) {
                return undefined;
            }

            // A second force within 30 s does not refresh (its answer is not documented: the current token).
            if (!this.stable || !this.forces.length || now - this.forces[this.forces.length - 1] >= forceSpacingMs) {
                this.forces.push(now);
                this.previousStable = undefined;
                this.stable = this.mint(now);
            }

            return this.stable;
        }

        if (!this.stable || this.stable.expiresAt - now <= rotateWindowMs) {
            this.previousStable = this.stable && this.stable.expiresAt > now ? this.stable : undefined;
            this.stable = this.mint(now);
        }

        return this.stable;
    }

    /** 0 for a live token, else WeChat's errcode: 42001 expired, 40001 invalid or superseded. */
    check(token: string | undefined): number {
        if (!token) {
            return 41001;
        }

        const now = this.clock.now();
        const found = [this.stable, this.previousStable, ...this.plain].find((issued) => issued?.token === token);
        if (!found) {
            return 40001;
        }

        if (now >= found.expiresAt) {
            return 42001;
        }

        if (found.supersededAt !== undefined && now >= found.supersededAt + this.settings.tokenGraceSeconds * 1000) {
            return 40001;
        }

        return 0;
    }

    private mint(now: number): Issued {
        const token = `${Crypto.randomBytes(48).toString('base64url')}`;
        return { token, expiresAt: now + this.settings.tokenTtlSeconds * 1000 };
    }
}
