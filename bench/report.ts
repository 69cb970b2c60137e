/** The machine and the results table (markdown, so it can go into bench/README.md as printed). */
import * as Os from 'os';

import type { Measurement } from './load';
import type { ScenarioResult } from './scenarios/types';

export const p99Target = 50;

export function machine(databaseVersion: string): string[] {
    const cpus = Os.cpus();
    return [
        `CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} (logical cores), ${Math.round(Os.totalmem() / 2 ** 30)} GiB RAM`,
        `OS: ${Os.type()} ${Os.release()} ${Os.arch()}; node ${process.version}; UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'} (runner and app)`,
        `database: ${databaseVersion}`
    ];
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

function row(scenario: string, measurement: Measurement, ratio: string, verdict: string): string {
    const cells = [
        scenario,
        measurement.label,
        fixed(measurement.rps, 0),
        fixed(measurement.p50, 1),
        fixed(measurement.p99, 1),
        fixed(measurement.cpuMsPerRequest, 2),
        String(measurement.errors),
        String(measurement.non2xx),
        ratio,
        verdict
    ];
    return `| ${cells.join(' | ')} |`;
}

export function verdictOf(result: ScenarioResult): { ratio: number; ok: boolean; text: string } {
    const ratio = result.app.rps / result.baseline.rps;
    const invalid = result.app.problems.length > 0 || result.baseline.problems.length > 0;
    const parts: string[] = [];
    if (invalid) {
        parts.push('INVALID (requests failed)');
    }

    const ratioOk = result.target === undefined || ratio >= result.target;
    if (result.target !== undefined) {
        parts.push(`${ratioOk ? 'meets' : 'misses'} ≥ ${Math.round(result.target * 100)}%`);
    }

    const p99Ok = result.app.p99 < p99Target;
    parts.push(`p99 ${p99Ok ? '<' : '≥'} ${p99Target} ms`);
    return { ratio, ok: !invalid && ratioOk && p99Ok, text: parts.join(', ') };
}

export function table(results: ScenarioResult[]): string[] {
    const lines = [
        '| scenario | measured | req/s | p50 ms | p99 ms | CPU ms/req | errors | non-2xx | ratio | verdict |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
    ];
    for (const result of results) {
        const verdict = verdictOf(result);
        lines.push(row(result.name, result.app, `**${fixed(verdict.ratio * 100, 1)}%**`, verdict.text));
        lines.push(row('', result.baseline, '', 'baseline'));
    }

    return lines;
}

export function details(results: ScenarioResult[]): string[] {
    const lines: string[] = [];
    for (const result of results) {
        for (const note of result.notes) {
            lines.push(`- ${result.name}: ${note}`);
        }

        for (const measurement of [result.app, result.baseline]) {
            for (const problem of measurement.problems) {
                lines.push(`- ${result.name}: PROBLEM in "${measurement.label}": ${problem}`);
            }
        }
    }

    return lines;
}
