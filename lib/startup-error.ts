/**
 * Why the server cannot start, as one line a person can act on: the variable to look at and what to do. The start
 * prints the message alone (no stack) and exits non-zero.
 */
export class StartupError extends Error {
    constructor(public readonly variable: string, problem: string, remedy: string) {
        super(`${variable}: ${problem}; ${remedy}`);
        this.name = 'StartupError';
    }
}

/** The first line of an error's message, without the driver's stack or detail lines. */
export function firstLine(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    return message.split('\n')[0].trim() || (err as Error)?.name || 'unknown error';
}
