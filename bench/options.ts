/** Benchmark options, from argv (`npm run bench -- --db postgres --only orders`) or the environment. */

export const scenarioNames = ['goods', 'login', 'orders', 'notify', 'notify-v3', 'merchant-orders', 'refund', 'webhooks'] as const;
export type ScenarioName = typeof scenarioNames[number];
export type BenchDb = 'sqlite' | 'postgres' | 'mysql';

export interface BenchOptions {
    /** Seconds each measured run lasts (the app and its baseline each get this much). */
    duration: number;
    /** Seconds of unrecorded load before each measured run (JIT, connection pools, SQLite page cache). */
    warmup: number;
    connections: number;
    db: BenchDb;
    /** The database URL: a temporary SQLite file unless --db postgres|mysql. */
    databaseUrl?: string;
    only: ScenarioName[];
    /** Write a V8 CPU profile of the app process during each measured app run into this folder (<scenario>.cpuprofile). */
    profileDir?: string;
}

const usage = `usage: npm run bench -- [--duration 10] [--warmup 2] [--connections 50] [--db sqlite|postgres|mysql]
                        [--only goods,login,orders,notify,notify-v3,merchant-orders,refund,webhooks] [--profile <dir>]
env: BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_DB, BENCH_ONLY, BENCH_CPU_PROF,
     BENCH_POSTGRES_URL (for --db postgres), BENCH_MYSQL_URL (for --db mysql)`;

export class UsageError extends Error {
    constructor(message: string) {
        super(`${message}\n${usage}`);
    }
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
    const given: Record<string, string | undefined> = {
        duration: env.BENCH_DURATION,
        warmup: env.BENCH_WARMUP,
        connections: env.BENCH_CONNECTIONS,
        db: env.BENCH_DB,
        only: env.BENCH_ONLY,
        profile: env.BENCH_CPU_PROF
    };

    for (let i = 0; i < argv.length; ++i) {
        const match = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
        if (!match || !(match[1] in given)) {
            throw new UsageError(`unknown argument "${argv[i]}"`);
        }

        given[match[1]] = match[2] ?? argv[++i];
        if (given[match[1]] === undefined) {
            throw new UsageError(`--${match[1]} needs a value`);
        }
    }

    const db = (given.db || 'sqlite') as BenchDb;
    if (!['sqlite', 'postgres', 'mysql'].includes(db)) {
        throw new UsageError(`--db must be sqlite, postgres or mysql (got "${db}")`);
    }

    const databaseUrl = db === 'postgres' ? env.BENCH_POSTGRES_URL : db === 'mysql' ? env.BENCH_MYSQL_URL : undefined;
    if (db !== 'sqlite' && !databaseUrl) {
        throw new UsageError(`--db ${db} needs ${db === 'postgres' ? 'BENCH_POSTGRES_URL' : 'BENCH_MYSQL_URL'}`);
    }

    const only = (given.only || scenarioNames.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
    const unknown = only.filter((name) => !(scenarioNames as readonly string[]).includes(name));
    if (unknown.length || !only.length) {
        throw new UsageError(`--only takes ${scenarioNames.join(', ')} (got "${given.only}")`);
    }

    return {
        duration: number(given.duration, 'duration', 10, 1, 600),
        warmup: number(given.warmup, 'warmup', 2, 0, 60),
        connections: number(given.connections, 'connections', 50, 1, 1000),
        db,
        databaseUrl,
        only: only as ScenarioName[],
        profileDir: given.profile || undefined
    };
}

function number(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
    if (value === undefined || value === '') {
        return fallback;
    }

    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${value}")`);
    }

    return parsed;
}
