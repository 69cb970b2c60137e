/**
 * Calls `attempt` up to `attempts` times while `retryable` says the failure is worth another try, waiting
 * `delayMs` between tries. Outbound calls use it with a small bound: a caller is waiting.
 */
export async function withRetry<T>(attempt: () => Promise<T>, options: { attempts: number; delayMs?: number; retryable: (err: unknown) => boolean }): Promise<T> {
    for (let tries = 1; ; ++tries) {
        try {
            return await attempt();
        }
        catch (err) {
            if (tries >= options.attempts || !options.retryable(err)) {
                throw err;
            }

            await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 100));
        }
    }
}
