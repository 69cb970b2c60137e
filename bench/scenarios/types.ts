import type { BenchApp } from '../app';
import type { RawDriver } from '../driver';
import type { Merchant } from '../fixtures';
import type { Measurement } from '../load';
import type { BenchOptions } from '../options';

export interface BenchContext {
    options: BenchOptions;
    app: BenchApp;
    driver: RawDriver;
    merchant: Merchant;
    log(message: string): void;
}

export interface ScenarioResult {
    name: string;
    app: Measurement;
    baseline: Measurement;
    /** The least app/baseline ratio the issue asks for, if it asks for one. */
    target?: number;
    notes: string[];
}

/** Requests in the calibration (and warm-up) run of a scenario with single-use inputs. */
export function calibrationSize(connections: number): number {
    return Math.max(500, connections * 10);
}

/**
 * Runs a measurement that consumes single-use inputs (login codes, unpaid orders) with enough of them: sized from
 * the rate a calibration reached, with a wide margin, and if the inputs still run out before the clock does, made
 * again with twice what the short run reached (at most twice).
 */
export async function withEnoughInputs(
    context: BenchContext,
    what: string,
    calibratedRate: number,
    attempt: (inputs: number, round: number) => Promise<Measurement>
): Promise<Measurement> {
    const { duration, connections } = context.options;
    let rate = Math.max(calibratedRate, 100);
    for (let round = 0; ; ++round) {
        const inputs = Math.ceil(rate * duration * 2) + 4 * connections;
        context.log(`${what}: preparing ${inputs} inputs (for ${Math.round(rate)}/s)`);
        const measurement = await attempt(inputs, round);
        if (!measurement.ranDry || round === 2) {
            return measurement;
        }

        context.log(`${what}: ran out of inputs at ${Math.round(measurement.rps)}/s; again with more`);
        rate = Math.max(rate, measurement.rps) * 2;
    }
}

/** Warm-up figures are thrown away, but a warm-up whose requests failed is worth knowing about. */
export function checkWarmup(context: BenchContext, what: string, measurement: Measurement): void {
    const problems = measurement.problems.filter((problem) => !problem.startsWith('ran out of prepared inputs'));
    if (problems.length) {
        context.log(`${what} warm-up: ${problems.join('; ')}`);
    }
}
