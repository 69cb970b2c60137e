/** Milliseconds since the epoch, as the money path sees them. */
export interface Clock {
    now(): number;
}

/** Moving the clock never takes it past this (WeChat's yyyyMMddHHmmss and JavaScript dates both end long after). */
export const maxClockOffsetMs = 10 * 366 * 86_400_000;

/**
 * Real time plus an offset that only moves forward. The backend and the simulator mounted on it share one, so
 * `POST /__sim/clock` moves both sides: WeChat's rules and the backend's expiry, windows and schedules.
 */
export class AdjustableClock implements Clock {
    private offsetMs = 0;

    now(): number {
        return Date.now() + this.offsetMs;
    }

    /** False (and nothing moves) when the total offset would pass `maxClockOffsetMs`. */
    advance(ms: number): boolean {
        if (!Number.isSafeInteger(ms) || ms < 0 || this.offsetMs + ms > maxClockOffsetMs) {
            return false;
        }

        this.offsetMs += ms;
        return true;
    }
}
