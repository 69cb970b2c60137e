import { AdjustableClock } from '../lib/clock';

/**
 * The simulator's clock: real time plus an offset that the `/__sim/clock` hook can move forward, so code expiry,
 * prepay_id validity and time_expire can be tested without waiting. Mounted on the backend, it is the backend's clock.
 */
export class SimClock extends AdjustableClock {}
