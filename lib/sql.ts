import { QueryTypes, Sequelize, Transaction } from 'sequelize';

/**
 * Raw statements for the paths that run on every order and every payment notification, where sequelize's model
 * layer cost several times the statements themselves (bench/README.md). Values are always bound (`$1`, `$2`, …),
 * never spliced into the text; sequelize still maps the drivers' errors (UniqueConstraintError, …).
 */
export type Bind = unknown[];

export function selectRows<T extends object>(sequelize: Sequelize, sql: string, bind: Bind, transaction?: Transaction): Promise<T[]> {
    return sequelize.query<T>(sql, { bind, transaction, type: QueryTypes.SELECT, raw: true });
}

/** Runs an UPDATE or DELETE; resolves to the number of rows it changed. */
export async function changeRows(sequelize: Sequelize, sql: string, bind: Bind, transaction?: Transaction): Promise<number> {
    return Number(await sequelize.query(sql, { bind, transaction, type: QueryTypes.BULKUPDATE }));
}

/** Runs an INSERT of one row into a table with an `id` key; resolves to the new id. */
export async function insertRow(sequelize: Sequelize, sql: string, bind: Bind, transaction?: Transaction): Promise<number> {
    if (sequelize.getDialect() === 'postgres') {
        const [row] = await selectRows<{ id: number | string }>(sequelize, `${sql} RETURNING id`, bind, transaction);
        return Number(row.id);
    }

    const [id] = await sequelize.query(sql, { bind, transaction, type: QueryTypes.INSERT });    // SQLite's lastID, MySQL's insertId
    return Number(id);
}

/** Runs an INSERT whose new ids are not needed. */
export async function insertRows(sequelize: Sequelize, sql: string, bind: Bind, transaction?: Transaction): Promise<void> {
    await sequelize.query(sql, { bind, transaction, type: QueryTypes.INSERT });
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
