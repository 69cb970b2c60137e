/**
 * The simulator's clock: real time plus an offset that the `/__sim/clock` hook can move forward, so code expiry,
 * prepay_id validity and time_expire can be tested without waiting.
 */
export class SimClock {
    private offsetMs = 0;

    now(): number {
        return Date.now() + this.offsetMs;
    }

    advance(ms: number): void {
        this.offsetMs += ms;
    }
}
