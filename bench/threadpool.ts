/**
 * Imported first by run.ts, before anything touches libuv's thread pool. On SQLite every transaction waiting for
 * the write lock sleeps in SQLite's busy handler on a pool thread; with fewer threads than waiting connections the
 * lock holder cannot get a thread for its next statement and everything stalls until busy timeouts fire (seen: 0
 * transactions in 20 s with 10 connections and the default 4 threads). So on SQLite the runner, and the app it forks
 * (which inherits the environment), get connections + 4 threads unless UV_THREADPOOL_SIZE is already set.
 */
import { parseOptions } from './options';

try {
    const options = parseOptions(process.argv.slice(2), process.env);
    if (options.db === 'sqlite' && !process.env.UV_THREADPOOL_SIZE) {
        process.env.UV_THREADPOOL_SIZE = String(Math.min(1024, options.connections + 4));
    }
}
catch {
    // run.ts reports bad arguments
}
