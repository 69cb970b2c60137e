interface PendingSleep {
    timer: NodeJS.Timeout;
    resolve(elapsed: boolean): void;
}

/**
 * Every timer and in-flight request the simulator starts on its own (notification retries, held requests), so that
 * stopping the server cancels them all and nothing keeps the process alive.
 */
export class Waits {
    private readonly sleeps = new Set<PendingSleep>();
    private readonly requests = new Set<AbortController>();
    private epoch = 0;

    /** Changes on every `cancelAll()`: work that began under an older generation must not start anything new. */
    get generation(): number {
        return this.epoch;
    }

    /** How many sleeps and requests are outstanding (0 once stopped). */
    get pending(): number {
        return this.sleeps.size + this.requests.size;
    }

    /** Resolves true after `ms`, or false as soon as `cancelAll()` runs. */
    sleep(ms: number): Promise<boolean> {
        return new Promise((resolve) => {
            const pending: PendingSleep = {
                resolve,
                timer: setTimeout(() => {
                    this.sleeps.delete(pending);
                    resolve(true);
                }, ms)
            };
            this.sleeps.add(pending);
        });
    }

    /** A controller for one outgoing request, aborted by `cancelAll()`; call `release` when the request is over. */
    request(): { controller: AbortController; release(): void } {
        const controller = new AbortController();
        this.requests.add(controller);
        return { controller, release: () => this.requests.delete(controller) };
    }

    cancelAll(): void {
        ++this.epoch;
        for (const pending of this.sleeps) {
            clearTimeout(pending.timer);
            pending.resolve(false);
        }

        this.sleeps.clear();
        for (const controller of this.requests) {
            controller.abort();
        }

        this.requests.clear();
    }
}
