import { AsyncLocalStorage } from 'async_hooks';
import * as Path from 'path';

import { Options, Sequelize, Transaction } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';

import { projectRoot } from './paths';
import { checkInternals, interceptConnections, interceptQueries } from './sequelize-internals';

export type Dialect = 'sqlite' | 'postgres' | 'mysql';

export function dialectOf(url: string): Dialect {
    if (url.startsWith('sqlite:')) {
        return 'sqlite';
    }

    return url.startsWith('postgres') ? 'postgres' : 'mysql';
}

/**
 * One sequelize instance for a DATABASE_URL. SQLite uses a file and IMMEDIATE transactions (it ignores row locks,
 * so writers must take the database write lock up front) and waits on a busy database instead of failing at once.
 */
export function createSequelize(url: string, options: { logging?: boolean; poolMax?: number } = {}): Sequelize {
    const dialect = dialectOf(url);
    const common: Options = {
        logging: options.logging ? console.log : false,
        define: { underscored: true },
        pool: { max: options.poolMax ?? 10, min: 0, acquire: 5000, idle: 10000 }
    };

    if (dialect === 'sqlite') {
        // sequelize creates the file's folder itself when it first connects.
        const sequelize = new Sequelize({
            ...common,
            dialect: 'sqlite',
            storage: url.slice('sqlite:'.length),
            transactionType: Transaction.TYPES.IMMEDIATE,
            retry: { max: 0 }
        });
        checkInternals(sequelize);
        shareWriterConnection(sequelize);
        serialiseWrites(sequelize);
        return sequelize;
    }

    const sequelize = new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
        ...common,
        dialect,
        dialectOptions: dialect === 'mysql' ? { connectTimeout: 5000 } : { connectionTimeoutMillis: 5000 }
    });
    checkInternals(sequelize);
    return sequelize;
}

/**
 * sequelize opens (and closes) one SQLite connection per transaction, and has no afterConnect hook for SQLite.
 * Writes are queued in this process (below), so every transaction uses one long-lived writer connection instead,
 * and each connection gets a busy timeout: a writer from another process is waited for, not failed with BUSY.
 */
function shareWriterConnection(sequelize: Sequelize): void {
    const configured = new WeakSet<object>();
    let writer: any;

    interceptConnections(sequelize, {
        getConnection: async (getConnection, options) => {
            const transactional = options?.uuid !== undefined && options.uuid !== 'default';
            if (transactional && writer) {
                return writer;
            }

            const connection = await getConnection(transactional ? { ...options, uuid: 'writer' } : options);
            if (!configured.has(connection)) {
                configured.add(connection);
                connection.configure('busyTimeout', 10000);
            }

            if (transactional) {
                writer = connection;
            }

            return connection;
        },
        releaseConnection: (releaseConnection, connection, force) => {
            if (connection === writer && !force) {
                return;
            }

            if (connection === writer) {
                writer = undefined;
            }

            return releaseConnection(connection, force);
        }
    });
}

/** A write without `{transaction}` (or a second transaction) from inside a managed transaction, on SQLite. */
export class ForgottenTransactionError extends Error {
    constructor(what: string) {
        super(`${what} inside a sequelize.transaction() callback without { transaction }: on SQLite it would wait for the `
            + 'transaction it is part of, which waits for it, and every write of this process would hang. Pass { transaction }.');
        this.name = 'ForgottenTransactionError';
    }
}

/** The first words of a statement, to name it in an error without its values. */
const statementHead = (sql: string) => sql.trim().split(/\s+/).slice(0, 3).join(' ');

/**
 * SQLite has one writer at a time, and node-sqlite3 waits for a busy database on a libuv worker thread: with more
 * waiting writers than worker threads (4), the writer holding the lock gets no thread to COMMIT on, and all of
 * them fail after the busy timeout. So writes of this process queue here instead, one after another: every
 * managed transaction, and every statement outside a transaction that is not a SELECT or PRAGMA (by its text, so
 * an `INSERT … RETURNING` run as a SELECT queues too). Readers are not queued: in WAL mode they never wait.
 * Only managed transactions (with a callback) are supported on SQLite.
 *
 * A write queued from inside a transaction's callback would wait for that transaction forever, so the callback
 * runs in an AsyncLocalStorage scope, open until the transaction ends, and such a write fails at once instead.
 * SQLite only: on Node 20 an AsyncLocalStorage turns on promise hooks for the whole process, which PostgreSQL and
 * MySQL (where such a write runs on another pooled connection and does not hang) never pay for.
 */
function serialiseWrites(sequelize: Sequelize): void {
    let tail: Promise<unknown> = Promise.resolve();
    const queued = <T>(work: () => Promise<T>): Promise<T> => {
        const result = tail.then(work, work);
        tail = result.catch(() => undefined);
        return result;
    };
    const insideTransaction = new AsyncLocalStorage<{ open: boolean }>();
    const inOpenTransaction = () => insideTransaction.getStore()?.open === true;

    interceptQueries(sequelize, {
        transaction: (transaction) => (...args: any[]) => {
            if (typeof args[args.length - 1] !== 'function') {
                throw new Error('On SQLite, wxshop only uses managed transactions: pass a callback to sequelize.transaction()');
            }

            if (args.length > 1 && args[0]?.transaction) {
                return transaction(...args);            // a savepoint on the transaction it names: already in the queue
            }

            if (inOpenTransaction()) {
                return Promise.reject(new ForgottenTransactionError('sequelize.transaction() called'));
            }

            return queued(() => {
                const scope = { open: true };
                return insideTransaction.run(scope, () => transaction(...args)).finally(() => {
                    scope.open = false;
                });
            });
        },
        query: (query) => (sql, options) => {
            const text = typeof sql === 'string' ? sql : sql.query;
            if (options?.transaction || /^\s*(SELECT|PRAGMA)\b/i.test(text)) {
                return query(sql, options);
            }

            if (inOpenTransaction()) {
                return Promise.reject(new ForgottenTransactionError(`${statementHead(text)} … issued`));
            }

            return queued(() => query(sql, options));
        }
    });
}

/**
 * The sequelize-cli migrations and seeders, run in-process. Migrations share sequelize-cli's SequelizeMeta table,
 * so the two can be mixed freely.
 */
export function migrator(sequelize: Sequelize, folder: 'migrations' | 'seeders' = 'migrations'): Umzug<Sequelize> {
    const queryInterface = sequelize.getQueryInterface();
    return new Umzug({
        migrations: {
            glob: ['*.js', { cwd: Path.join(projectRoot, folder) }],
            resolve: ({ name, path }) => {
                const migration = require(path!);
                return {
                    name,
                    up: () => migration.up(queryInterface, Sequelize),
                    down: () => migration.down(queryInterface, Sequelize)
                };
            }
        },
        context: sequelize,
        storage: new SequelizeStorage({ sequelize, ...bookkeeping(folder) }),
        logger: undefined
    });
}

/** sequelize-cli's own table names: our `underscored` default would otherwise rename them to sequelize_meta. */
function bookkeeping(folder: 'migrations' | 'seeders') {
    const table = folder === 'migrations' ? 'SequelizeMeta' : 'SequelizeData';
    return { modelName: table, tableName: table };
}

/**
 * Readies the database at start: WAL on SQLite (readers no longer wait for the writer), then, when asked, pending
 * migrations and, if the shop catalogue is empty, the demo seeders.
 */
export async function prepareDatabase(sequelize: Sequelize, options: { migrate: boolean; seed: boolean }): Promise<void> {
    if (sequelize.getDialect() === 'sqlite') {
        await sequelize.query('PRAGMA journal_mode = WAL');
    }

    if (!options.migrate) {
        return;
    }

    await migrator(sequelize).up();
    if (!options.seed) {
        return;
    }

    const [[{ count }]] = await sequelize.query('SELECT COUNT(*) AS count FROM shops') as [[{ count: number | string }], unknown];
    if (Number(count) === 0) {
        await migrator(sequelize, 'seeders').up();
    }
}
