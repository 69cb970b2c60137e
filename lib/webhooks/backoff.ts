const firstDelayMs = 30_000;
const maxDelayMs = 6 * 3600_000;

/**
 * The wait before the next attempt after `attempts` failed ones: 30 s doubling per attempt, at most 6 hours, each
 * drawn at random from 50–100% of that (jitter: endpoints that failed together do not retry together).
 */
export function retryDelayMs(attempts: number, random = Math.random): number {
    const ceiling = Math.min(maxDelayMs, firstDelayMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(ceiling * (0.5 + random() / 2));
}
