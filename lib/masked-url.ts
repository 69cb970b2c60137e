import { dialectOf } from './db';

const dialectNames = { sqlite: 'SQLite', postgres: 'PostgreSQL', mysql: 'MySQL/MariaDB' } as const;

/** A URL (database, Redis) fit for a log line or an error message: any user and password replaced by `***`. */
export function maskCredentials(url: string): string {
    return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** "PostgreSQL at postgres://***@db:5432/wxshop", "SQLite at /path/wxshop.sqlite": what a start banner says. */
export function describeDatabase(url: string): string {
    const dialect = dialectOf(url);
    return `${dialectNames[dialect]} at ${dialect === 'sqlite' ? url.slice('sqlite:'.length) : maskCredentials(url)}`;
}
