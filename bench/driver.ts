/**
 * The database drivers used bare (sqlite3, pg, mysql2; no sequelize) for the raw-SQL baselines. SQL is written with
 * `?` placeholders; values are bound by the driver.
 */
import * as Sqlite3 from 'sqlite3';
import * as Mysql from 'mysql2/promise';

import { dialectOf, Dialect } from '../lib/db';

export interface RawResult {
    rows: any[];
    affected: number;
    insertId?: number;
}

export interface RawConnection {
    query(sql: string, params?: unknown[]): Promise<RawResult>;
    close(): Promise<void>;
}

export interface RawDriver {
    dialect: Dialect;
    /** How a write transaction starts: SQLite takes the write lock up front, as lib/db.ts makes sequelize do. */
    begin: string;
    connect(): Promise<RawConnection>;
    /** An INSERT that reports the new row's id in `insertId`. */
    insertReturningId(sql: string): string;
    /** A timestamp as sequelize stores it on this dialect. */
    date(value: Date): unknown;
    bool(value: boolean): unknown;
}

export function rawDriver(url: string): RawDriver {
    const dialect = dialectOf(url);
    if (dialect === 'sqlite') {
        return sqliteDriver(url.slice('sqlite:'.length));
    }

    return dialect === 'postgres' ? postgresDriver(url) : mysqlDriver(url.replace(/^mariadb:/, 'mysql:'));
}

function sqliteDriver(file: string): RawDriver {
    return {
        dialect: 'sqlite',
        begin: 'BEGIN IMMEDIATE',
        insertReturningId: (sql) => sql,
        // sequelize's SQLite format: 'YYYY-MM-DD HH:MM:SS.SSS +00:00'
        date: (value) => `${value.toISOString().replace('T', ' ').replace('Z', '')} +00:00`,
        bool: (value) => (value ? 1 : 0),
        async connect() {
            const db = await new Promise<Sqlite3.Database>((resolve, reject) => {
                const opened: Sqlite3.Database = new Sqlite3.Database(file, Sqlite3.OPEN_READWRITE, (err) => (err ? reject(err) : resolve(opened)));
            });
            db.configure('busyTimeout', 10000);      // wait for the write lock, as lib/db.ts configures sequelize's connections
            const query = (sql: string, params: unknown[] = []) => new Promise<RawResult>((resolve, reject) => {
                if (/^\s*select/i.test(sql)) {
                    db.all(sql, params, (err, rows) => (err ? reject(err) : resolve({ rows, affected: 0 })));
                }
                else {
                    db.run(sql, params, function (this: Sqlite3.RunResult, err: Error | null) {
                        return err ? reject(err) : resolve({ rows: [], affected: this.changes, insertId: this.lastID });
                    });
                }
            });
            await query('PRAGMA foreign_keys = ON');     // sequelize turns foreign keys on for every SQLite connection
            return { query, close: () => new Promise<void>((resolve) => db.close(() => resolve())) };
        }
    };
}

interface PgClient {
    connect(): Promise<void>;
    query(sql: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
    end(): Promise<void>;
}

function postgresDriver(url: string): RawDriver {
    const Pg = require('pg') as { Client: new (options: { connectionString: string }) => PgClient };
    return {
        dialect: 'postgres',
        begin: 'BEGIN',
        insertReturningId: (sql) => `${sql} RETURNING id`,
        date: (value) => value,
        bool: (value) => value,
        async connect() {
            const client = new Pg.Client({ connectionString: url });
            await client.connect();
            return {
                async query(sql, params = []) {
                    let n = 0;
                    const result = await client.query(sql.replace(/\?/g, () => `$${++n}`), params);
                    return { rows: result.rows, affected: result.rowCount ?? 0, insertId: result.rows[0]?.id };
                },
                close: () => client.end()
            };
        }
    };
}

function mysqlDriver(url: string): RawDriver {
    return {
        dialect: 'mysql',
        begin: 'START TRANSACTION',
        insertReturningId: (sql) => sql,
        date: (value) => value,
        bool: (value) => (value ? 1 : 0),
        async connect() {
            const connection = await Mysql.createConnection({ uri: url, timezone: 'Z' });
            return {
                async query(sql, params = []) {
                    const [result] = await connection.query(sql, params);
                    if (Array.isArray(result)) {
                        return { rows: result, affected: 0 };
                    }

                    const header = result as Mysql.ResultSetHeader;
                    return { rows: [], affected: header.affectedRows, insertId: header.insertId };
                },
                close: () => connection.end()
            };
        }
    };
}
