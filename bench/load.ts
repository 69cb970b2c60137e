/** The two ways a figure is measured: autocannon against an HTTP server, or a loop of transactions on the bare driver. */
import * as Fs from 'fs';

import autocannon = require('autocannon');

import type { RawConnection, RawDriver } from './driver';

export interface Measurement {
    label: string;
    /** Mean requests (or transactions) per second. */
    rps: number;
    p50: number;
    p99: number;
    /** Completed requests / committed transactions. */
    total: number;
    /** Connection errors and timeouts (HTTP), or failed transactions (driver). */
    errors: number;
    non2xx: number;
    /** Responses whose body was not the expected one. */
    mismatches: number;
    statusCodes: Record<string, number>;
    /** Why this figure cannot be believed; empty when every request did what it should. */
    problems: string[];
    /** The prepared single-use inputs ran out before the clock did. */
    ranDry: boolean;
    /**
     * CPU time (user + system, all threads) of the process doing the work, per request: the app process for HTTP
     * runs, the runner for driver runs (the database server's own CPU is not in it). Less noisy than req/s.
     */
    cpuMsPerRequest: number;
}

/** CPU milliseconds used so far by a process (Linux /proc; NaN elsewhere). */
export function cpuMs(pid: number): number {
    try {
        const fields = Fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;      // utime + stime, in USER_HZ (100)
    }
    catch {
        return NaN;
    }
}

/** A queue of single-use inputs (login codes, notifications). Running dry ends the run early and says so. */
export class Pool<T> {
    private next = 0;
    constructor(private readonly items: T[]) {}

    take(): T | undefined {
        return this.items[this.next++];
    }
}

export interface HttpRun {
    label: string;
    /** The full URL, path included. */
    url: string;
    connections: number;
    /** Seconds; ignored when `amount` is given. */
    duration: number;
    amount?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Builds each request (called once per request sent, plus once per connection up front). */
    next?: () => autocannon.Request | undefined;
    verifyBody?: (body: string) => boolean;
    /** The status every response must have. */
    expectStatus: number;
    /** The pid of the server process, for its CPU time. */
    serverPid: number;
}

export async function http(run: HttpRun): Promise<Measurement> {
    let dry = false;
    let instance: autocannon.Instance | undefined;
    const requests: autocannon.RequestTemplate[] | undefined = run.next ? [{
        setupRequest: (request) => {
            const next = run.next!();
            if (next) {
                return { ...request, ...next, headers: { ...request.headers, ...next.headers } };
            }

            // Out of single-use inputs: end the run (a falsy return would make autocannon throw).
            if (!dry) {
                dry = true;
                setImmediate(() => instance?.stop());
            }

            return { ...request, method: 'GET', path: '/health', body: undefined };
        }
    }] : undefined;

    instance = autocannon({
        url: run.url,
        connections: run.connections,
        duration: run.duration,
        amount: run.amount,
        timeout: 10,
        method: run.method ?? 'GET',
        headers: run.body ? { 'content-type': 'application/json', ...run.headers } : run.headers,
        body: run.body,
        requests,
        verifyBody: run.verifyBody
    });
    const cpuBefore = cpuMs(run.serverPid);
    const result = await instance;
    const cpu = cpuMs(run.serverPid) - cpuBefore;
    const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, Number(stats.count)]));
    const expected = statusCodes[run.expectStatus] ?? 0;
    const measurement: Measurement = {
        label: run.label,
        rps: run.amount ? result.requests.total / result.duration : result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        total: result.requests.total,
        errors: result.errors,
        non2xx: result.non2xx,
        mismatches: result.mismatches,
        statusCodes,
        problems: [],
        ranDry: dry,
        cpuMsPerRequest: cpu / result.requests.total
    };

    if (result.errors) {
        measurement.problems.push(`${result.errors} connection errors/timeouts`);
    }

    const unexpected = Object.entries(statusCodes).filter(([code]) => Number(code) !== run.expectStatus);
    if (unexpected.length) {
        measurement.problems.push(`responses other than ${run.expectStatus}: ${unexpected.map(([code, n]) => `${n}×${code}`).join(', ')}`);
    }

    if (result.mismatches) {
        measurement.problems.push(`${result.mismatches} responses with an unexpected body`);
    }

    if (dry) {
        measurement.problems.push(`ran out of prepared inputs after ${expected} requests: the run was cut short`);
    }

    return measurement;
}

export interface RawRun<T> {
    label: string;
    driver: RawDriver;
    connections: number;
    duration: number;
    /** The input of the next transaction; undefined ends the run. */
    next: () => T | undefined;
    /** The statements of one transaction (between BEGIN and COMMIT); throws when something did not happen. */
    transaction: (connection: RawConnection, input: T) => Promise<void>;
}

/** `connections` workers, each with its own connection and one transaction in flight, for `duration` seconds. */
export async function raw<T>(run: RawRun<T>): Promise<Measurement> {
    const connections = await Promise.all(Array.from({ length: run.connections }, () => run.driver.connect()));
    const latencies: number[] = [];
    const failures = new Map<string, number>();
    let dry = false;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + run.duration * 1000;

    try {
        await Promise.all(connections.map(async (connection) => {
            while (performance.now() < deadline) {
                const input = run.next();
                if (input === undefined) {
                    dry = true;
                    return;
                }

                const begun = performance.now();
                try {
                    await connection.query(run.driver.begin);
                    await run.transaction(connection, input);
                    await connection.query('COMMIT');
                    latencies.push(performance.now() - begun);
                }
                catch (err) {
                    const message = (err as Error).message.split('\n')[0].slice(0, 120);
                    failures.set(message, (failures.get(message) ?? 0) + 1);
                    await connection.query('ROLLBACK').catch(() => undefined);
                }
            }
        }));
    }
    finally {
        await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
    }

    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const errors = [...failures.values()].reduce((sum, n) => sum + n, 0);
    const problems = [...failures].map(([message, n]) => `${n}× ${message}`);
    if (dry) {
        problems.push(`ran out of prepared inputs after ${latencies.length} transactions: the run was cut short`);
    }

    return {
        label: run.label,
        rps: latencies.length / elapsed,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        total: latencies.length,
        errors,
        non2xx: 0,
        mismatches: 0,
        statusCodes: {},
        problems,
        ranDry: dry,
        cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / latencies.length
    };
}

function percentile(values: number[], p: number): number {
    if (!values.length) {
        return NaN;
    }

    const sorted = Float64Array.from(values).sort();
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
