import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import { QueryTypes, Sequelize } from 'sequelize';

import { createSequelize, migrator } from '../lib/db';
import { resetDatabase } from '../test/helpers';
import type { BenchOptions } from './options';

/**
 * A fresh schema for this run: a new temporary SQLite file (the app migrates it when it starts), or the given
 * PostgreSQL/MySQL database emptied and migrated up again.
 */
export async function freshDatabase(options: BenchOptions): Promise<{ url: string; cleanup(): void }> {
    if (options.db === 'sqlite') {
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-bench-'));
        return { url: `sqlite:${Path.join(dir, 'bench.sqlite')}`, cleanup: () => Fs.rmSync(dir, { recursive: true, force: true }) };
    }

    const url = options.databaseUrl!;
    await resetDatabase(url);
    const sequelize = createSequelize(url, { poolMax: 1 });
    try {
        await migrator(sequelize).up();
    }
    finally {
        await sequelize.close();
    }

    return { url, cleanup: () => undefined };
}

export async function databaseVersion(sequelize: Sequelize): Promise<string> {
    const dialect = sequelize.getDialect();
    const sql = dialect === 'sqlite' ? 'SELECT sqlite_version() AS version' : 'SELECT version() AS version';
    const [row] = await sequelize.query<{ version: string }>(sql, { type: QueryTypes.SELECT });
    const version = dialect === 'sqlite' ? `SQLite ${row.version} (temporary file, WAL)` : row.version;
    return version.split(' on ')[0];
}
