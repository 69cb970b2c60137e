import * as Path from 'path';
import { Options, Sequelize, Transaction } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';

import { projectRoot } from './paths';

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
        shareWriterConnection(sequelize);
        serialiseWrites(sequelize);
        return sequelize;
    }

    return new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
        ...common,
        dialect,
        dialectOptions: dialect === 'mysql' ? { connectTimeout: 5000 } : { connectionTimeoutMillis: 5000 }
    });
}

/**
 * sequelize opens (and closes) one SQLite connection per transaction, and has no afterConnect hook for SQLite.
 * Writes are queued in this process (below), so every transaction uses one long-lived writer connection instead,
 * and each connection gets a busy timeout: a writer from another process is waited for, not failed with BUSY.
 */
function shareWriterConnection(sequelize: Sequelize): void {
    const manager = (sequelize as any).connectionManager;
    const getConnection = manager.getConnection.bind(manager);
    const releaseConnection = manager.releaseConnection.bind(manager);
    const configured = new WeakSet<object>();
    let writer: unknown;

    manager.getConnection = async (options?: { uuid?: string }) => {
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
    };

    manager.releaseConnection = (connection: unknown, force?: boolean) => {
        if (connection === writer && !force) {
            return;
        }

        if (connection === writer) {
            writer = undefined;
        }

        return releaseConnection(connection, force);
    };
}

/**
 * SQLite has one writer at a time, and node-sqlite3 waits for a busy database on a libuv worker thread: with more
 * waiting writers than worker threads (4), the writer holding the lock gets no thread to COMMIT on, and all of
 * them fail after the busy timeout. So writes of this process queue here instead, one after another: every
 * managed transaction, and every statement outside a transaction that is not a SELECT. (Readers are not queued:
 * in WAL mode they never wait.) Only managed transactions (with a callback) are supported on SQLite.
 */
function serialiseWrites(sequelize: Sequelize): void {
    let tail: Promise<unknown> = Promise.resolve();
    const queued = <T>(work: () => Promise<T>): Promise<T> => {
        const result = tail.then(work, work);
        tail = result.catch(() => undefined);
        return result;
    };

    const transaction = sequelize.transaction.bind(sequelize) as (...args: any[]) => Promise<unknown>;
    (sequelize as any).transaction = (...args: any[]) => {
        if (typeof args[args.length - 1] !== 'function') {
            throw new Error('On SQLite, wxshop only uses managed transactions: pass a callback to sequelize.transaction()');
        }

        return queued(() => transaction(...args));
    };

    const query = sequelize.query.bind(sequelize) as (...args: any[]) => Promise<unknown>;
    (sequelize as any).query = (sql: string | { query: string }, options?: { transaction?: unknown; type?: string }) => {
        const text = typeof sql === 'string' ? sql : sql.query;
        const read = options?.type === 'SELECT' || /^\s*(SELECT|PRAGMA)\b/i.test(text);
        return options?.transaction || read ? query(sql, options) : queued(() => query(sql, options));
    };
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
