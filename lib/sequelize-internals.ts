import { Sequelize, Transaction } from 'sequelize';

/**
 * The one place wxshop depends on sequelize's private fields and on how sequelize calls its own methods. The speed
 * of lib/sql.ts and SQLite's write queue in lib/db.ts need them; nothing else may reach past sequelize's typed API.
 * Each use below names the fact it relies on. test/sequelize-internals.test.ts checks every one of them on each
 * database and fails naming the field, so a sequelize release that changes one fails the suite, not the money path.
 *
 * Written for exactly this version (pinned in package.json). At start a different version gets one warning (the
 * internals are then unverified: run that test on every database, then update `writtenFor` and the pin), and
 * `checkInternals` refuses to build a database connection at all when an internal is missing.
 */
export const writtenFor = '6.37.8';

/** The sequelize version installed (a static getter sequelize has but does not type). */
export const installedVersion: string = (Sequelize as unknown as { version: string }).version;

export class SequelizeInternalsError extends Error {
    constructor(field: string, expectation: string) {
        super(`sequelize ${installedVersion} internals (lib/sequelize-internals.ts, written for ${writtenFor}): ${field} ${expectation}`);
        this.name = 'SequelizeInternalsError';
    }
}

type AnyFunction = (...args: any[]) => any;

interface Internals {
    /** The pool. Typed, but the `{uuid}` a transaction acquires with and `releaseConnection(connection, force)` are not. */
    connectionManager: { getConnection: AnyFunction; releaseConnection: AnyFunction; validate?: AnyFunction };
    /** The dialect's Query class: its `formatError(err, stack)` names a driver error (UniqueConstraintError, …). */
    dialect: { Query: { new(connection: unknown, sequelize: Sequelize, options: object): { sql: string; formatError: AnyFunction } } };
    /** The constructor options as sequelize keeps them: `logging` is false or the function queries are logged to. */
    options: { logging?: unknown };
}

const internals = (sequelize: Sequelize) => sequelize as unknown as Internals;

let versionWarned = false;

/** At start: one warning for an untested version; a SequelizeInternalsError when something used here is gone. */
export function checkInternals(sequelize: Sequelize): void {
    if (installedVersion !== writtenFor && !versionWarned) {
        versionWarned = true;
        process.emitWarning(`sequelize ${installedVersion} is installed; lib/sequelize-internals.ts was written for ${writtenFor}. `
            + 'Run test/sequelize-internals.test.ts on every database, then update writtenFor and the package.json pin.', 'SequelizeVersionWarning');
    }

    const { connectionManager, dialect, options } = internals(sequelize);
    for (const method of ['getConnection', 'releaseConnection'] as const) {
        if (typeof connectionManager?.[method] !== 'function') {
            throw new SequelizeInternalsError(`sequelize.connectionManager.${method}`, 'is not a function');
        }
    }

    if (typeof dialect?.Query?.prototype?.formatError !== 'function') {
        throw new SequelizeInternalsError('sequelize.dialect.Query.prototype.formatError', 'is not a function');
    }

    if (!options || !('logging' in options)) {
        throw new SequelizeInternalsError('sequelize.options.logging', 'is not kept on the instance');
    }

    // sequelize's pg pool keeps a connection while `validate` passes, and validate reads the connection's `_invalid`.
    if (sequelize.getDialect() === 'postgres'
        && (typeof connectionManager.validate !== 'function' || connectionManager.validate({}) !== true || connectionManager.validate({ _invalid: true }) !== false)) {
        throw new SequelizeInternalsError('sequelize.connectionManager.validate(connection)', 'no longer refuses a pg connection marked `_invalid`');
    }
}

/**
 * The driver connection a transaction runs on, and the id sequelize logs it under. sequelize sets both when the
 * transaction begins (Transaction#prepareEnvironment) and runs every statement with `{transaction}` on it.
 */
export function transactionConnection(transaction: Transaction): { connection: any; id: string } {
    const { connection, id } = transaction as unknown as { connection?: unknown; id: string };
    if (!connection) {
        throw new SequelizeInternalsError('transaction.connection', 'is not set on a transaction that has begun');
    }

    return { connection, id };
}

/** The function sequelize logs its queries to (DATABASE_LOGGING), or undefined. */
export function queryLogger(sequelize: Sequelize): ((line: string) => void) | undefined {
    const log = internals(sequelize).options.logging;
    return typeof log === 'function' ? (log as (line: string) => void) : undefined;
}

/** A driver's error as sequelize itself would have thrown it for `sql` (UniqueConstraintError, …). */
export function sequelizeErrorOf(sequelize: Sequelize, connection: unknown, err: Error & { sql?: string; parameters?: unknown[] }, sql: string, bind: unknown[]): Error {
    err.sql = sql;
    err.parameters = bind;
    const query = new (internals(sequelize).dialect.Query)(connection, sequelize, { logging: false });
    query.sql = sql;
    return query.formatError(err, err.stack);
}

/** What sequelize's pg Query does on a connection reset: its pool then destroys this connection instead of reusing it. */
export function markPgConnectionBroken(client: { _invalid?: boolean }): void {
    client._invalid = true;
}

export interface ConnectionHooks {
    /** `options.uuid` is the transaction's id when a transaction acquires; `'default'` or absent otherwise. */
    getConnection(original: (options?: { uuid?: string }) => Promise<any>, options?: { uuid?: string }): Promise<any>;
    releaseConnection(original: (connection: any, force?: boolean) => unknown, connection: any, force?: boolean): unknown;
}

/**
 * Puts `hooks` around the pool's getConnection and releaseConnection. A transaction acquires through
 * `getConnection({uuid: transaction.id})` and gives the connection back through `releaseConnection(connection)`
 * when it ends; a statement outside a transaction does the same with no uuid.
 */
export function interceptConnections(sequelize: Sequelize, hooks: ConnectionHooks): void {
    const manager = internals(sequelize).connectionManager;
    const getConnection = manager.getConnection.bind(manager);
    const releaseConnection = manager.releaseConnection.bind(manager);
    manager.getConnection = (options?: { uuid?: string }) => hooks.getConnection(getConnection, options);
    manager.releaseConnection = (connection: unknown, force?: boolean) => hooks.releaseConnection(releaseConnection, connection, force);
}

export type QueryCall = (sql: string | { query: string }, options?: { transaction?: unknown; type?: string }) => Promise<unknown>;
export type TransactionCall = (...args: any[]) => Promise<unknown>;

/**
 * Replaces this instance's `query` and `transaction` with wrappers around the originals. Every model method, the
 * query interface (migrations, bulkInsert) and a transaction's own BEGIN/COMMIT/ROLLBACK call the instance's
 * `query` (sequelize 7 moves them to a private `queryRaw`), the last ones with `options.transaction` set.
 */
export function interceptQueries(sequelize: Sequelize, wrap: { query: (original: QueryCall) => QueryCall; transaction: (original: TransactionCall) => TransactionCall }): void {
    const instance = sequelize as unknown as { query: QueryCall; transaction: TransactionCall };
    instance.query = wrap.query(sequelize.query.bind(sequelize) as QueryCall);
    instance.transaction = wrap.transaction(sequelize.transaction.bind(sequelize) as TransactionCall);
}
