export interface Window {
    count: number;
    resetAt: number;
}

/** What is needed of a catbox policy (server.cache()). */
export interface WindowStore {
    get(key: string): Promise<Window | null>;
    set(key: string, value: Window, ttl: number): Promise<void>;
    drop(key: string): Promise<void>;
}

/**
 * Failed merchant logins counted per client IP and per username in a fixed window (from the first failure). Over
 * either limit, every login of that IP or username is refused until the window ends, the right password included.
 * The counters live in the project's rate-limit cache: Redis, shared by every instance, when REDIS_URL is set.
 */
export class LoginFailures {
    constructor(private readonly policy: WindowStore, private readonly limits: { perIp: number; perUsername: number; windowMs: number }) { }

    /** Seconds until a login may be tried again, or 0 when it may be tried now. */
    async retryAfter(ip: string, username: string, now = Date.now()): Promise<number> {
        const [byIp, byUser] = await Promise.all([this.policy.get(ipKey(ip)), this.policy.get(userKey(username))]);
        const blocked = [[byIp, this.limits.perIp], [byUser, this.limits.perUsername]] as Array<[Window | null, number]>;
        const resets = blocked.filter(([window, limit]) => window && window.count >= limit && window.resetAt > now).map(([window]) => window!.resetAt);
        return resets.length ? Math.max(1, Math.ceil((Math.max(...resets) - now) / 1000)) : 0;
    }

    async recordFailure(ip: string, username: string, now = Date.now()): Promise<void> {
        await Promise.all([this.bump(ipKey(ip), now), this.bump(userKey(username), now)]);
    }

    /** A successful login forgets that username's failures (not the IP's). */
    async clear(username: string): Promise<void> {
        await this.policy.drop(userKey(username));
    }

    private async bump(key: string, now: number): Promise<void> {
        const current = await this.policy.get(key);
        const window = current && current.resetAt > now ? current : { count: 0, resetAt: now + this.limits.windowMs };
        await this.policy.set(key, { count: window.count + 1, resetAt: window.resetAt }, window.resetAt - now);
    }
}

const ipKey = (ip: string) => `ip:${ip}`;
const userKey = (username: string) => `user:${username.toLowerCase()}`;
