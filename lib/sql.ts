import { QueryTypes, Sequelize, Transaction } from 'sequelize';

import type { Dialect } from './db';
import { markPgConnectionBroken, queryLogger, sequelizeErrorOf, transactionConnection } from './sequelize-internals';

/**
 * Raw statements for the paths that run on every order and every payment notification, where sequelize's model
 * layer cost several times the statements themselves (bench/README.md). Values are always bound (`$1`, `$2`, …),
 * never spliced into the text.
 *
 * Inside a transaction a statement goes straight to the driver connection sequelize opened the transaction on:
 * sequelize's per-query machinery (option merging, a uuid, a stack trace, result sniffing) cost more CPU than the
 * driver itself. sequelize still begins, commits and rolls back, pools the connections, queues SQLite's writers
 * and turns the drivers' errors into its own (UniqueConstraintError, …). Outside a transaction a statement goes
 * through sequelize.query, which picks a pooled connection. What this takes from sequelize's insides (the
 * transaction's connection, its error naming, its logger) comes through lib/sequelize-internals.ts.
 */
export type Bind = unknown[];

interface Executed {
    rows: any[];
    changed: number;
    /** SQLite's lastID, MySQL's insertId (PostgreSQL reports ids with RETURNING). */
    insertId?: number;
}

export function selectRows<T extends object>(sequelize: Sequelize, sql: string, bind: Bind, transaction?: Transaction): Promise<T[]> {
    if (!transaction) {
        return sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, raw: true });
    }

    return execute(sequelize, transaction, sql, bind, true).then((executed) => executed.rows as T[]);
}

/** Runs an UPDATE or DELETE; resolves to the number of rows it changed. */
export async function changeRows(sequelize: Sequelize, sql: string, bind: Bind, transaction: Transaction): Promise<number> {
    return (await execute(sequelize, transaction, sql, bind, false)).changed;
}

/** Runs an INSERT of one row into a table with an `id` key; resolves to the new id. */
export async function insertRow(sequelize: Sequelize, sql: string, bind: Bind, transaction: Transaction): Promise<number> {
    if (sequelize.getDialect() === 'postgres') {
        const [row] = await selectRows<{ id: number | string }>(sequelize, `${sql} RETURNING id`, bind, transaction);
        return Number(row.id);
    }

    return Number((await execute(sequelize, transaction, sql, bind, false)).insertId);
}

/** Runs an INSERT whose new ids are not needed. */
export async function insertRows(sequelize: Sequelize, sql: string, bind: Bind, transaction: Transaction): Promise<void> {
    await execute(sequelize, transaction, sql, bind, false);
}

type Driver = (connection: any, sql: string, bind: Bind, returnsRows: boolean) => Promise<Executed>;

const drivers: Record<Dialect, Driver> = {
    // pg: `$n` is native. NUL is escaped as sequelize does (PostgreSQL refuses it in text).
    postgres: async (client, sql, bind) => {
        try {
            const result = await client.query(sql, bind.map((value) => (typeof value === 'string' ? value.replace(/\0/g, '\\0') : value)));
            return { rows: result.rows, changed: result.rowCount ?? 0 };
        }
        catch (err) {
            if ((err as { code?: string }).code === 'ECONNRESET') {
                markPgConnectionBroken(client);         // sequelize's own rule: its pool then drops this connection
            }

            throw err;
        }
    },
    // mysql2: `?` placeholders, in order, as sequelize rewrites them; prepared (execute) as sequelize runs them.
    mysql: (connection, sql, bind) => {
        const { text, order } = questionMarks(sql);
        return new Promise((resolve, reject) => {
            connection.execute(text, order.map((index) => bind[index]), (err: Error | null, result: any) => {
                if (err) {
                    return reject(err);
                }

                resolve(Array.isArray(result) ? { rows: result, changed: 0 } : { rows: [], changed: result.affectedRows, insertId: result.insertId });
            });
        });
    },
    // sqlite3: `$n` are named parameters, bound from an object; `all` for rows, `run` for the change count.
    sqlite: (db, sql, bind, returnsRows) => {
        const named: Record<string, unknown> = {};
        bind.forEach((value, index) => {
            named[`$${index + 1}`] = value;
        });
        return new Promise((resolve, reject) => {
            if (returnsRows) {
                db.all(sql, named, (err: Error | null, rows: any[]) => (err ? reject(err) : resolve({ rows, changed: rows.length })));
                return;
            }

            db.run(sql, named, function (this: { changes: number; lastID: number }, err: Error | null) {
                return err ? reject(err) : resolve({ rows: [], changed: this.changes, insertId: this.lastID });
            });
        });
    }
};

async function execute(sequelize: Sequelize, transaction: Transaction, sql: string, bind: Bind, returnsRows: boolean): Promise<Executed> {
    const { connection, id } = transactionConnection(transaction);
    const log = queryLogger(sequelize);
    if (log) {
        log(`Executing (${id}): ${sql}`);          // DATABASE_LOGGING shows these too, as sequelize prints its own
    }

    try {
        return await drivers[sequelize.getDialect() as Dialect](connection, sql, bind, returnsRows);
    }
    catch (err) {
        throw sequelizeErrorOf(sequelize, connection, err as Error, sql, bind);
    }
}

const rewritten = new Map<string, { text: string; order: number[] }>();

/** `$n` placeholders as MySQL's `?`, with the bind index each `?` takes (a `$n` may appear more than once). */
function questionMarks(sql: string): { text: string; order: number[] } {
    let found = rewritten.get(sql);
    if (!found) {
        const order: number[] = [];
        const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
            order.push(Number(n) - 1);
            return '?';
        });
        found = { text, order };
        if (rewritten.size < 1000) {            // a handful of statement shapes; bounded all the same
            rewritten.set(sql, found);
        }
    }

    return found;
}

/**
 * A Date as sequelize stores it, so raw writes and model writes compare alike: SQLite keeps dates as text
 * (`2026-11-22 09:30:00.000 +00:00`, and compares them as text), MySQL's DATETIME takes UTC without a zone.
 */
export function sqlDate(sequelize: Sequelize, date: Date): Date | string {
    switch (sequelize.getDialect()) {
        case 'sqlite':
            return date.toISOString().replace('T', ' ').replace('Z', ' +00:00');
        case 'mysql':
            return date.toISOString().replace('T', ' ').replace('Z', '');
        default:
            return date;
    }
}

/** `$first, $first+1, …` for `count` values: an IN list or a VALUES row. */
export function placeholders(first: number, count: number): string {
    return Array.from({ length: count }, (_, index) => `$${first + index}`).join(', ');
}
