/** WeChat Pay v2 times are Beijing time (UTC+8) whatever the server's timezone (reference §0). */

const beijingOffsetMs = 8 * 3600_000;

/** yyyyMMddHHmmss */
export function formatBeijingCompact(date: Date): string {
    return new Date(date.getTime() + beijingOffsetMs).toISOString().replace(/\D/g, '').slice(0, 14);
}

/** yyyy-MM-dd HH:mm:ss */
export function formatBeijingDashed(date: Date): string {
    return new Date(date.getTime() + beijingOffsetMs).toISOString().slice(0, 19).replace('T', ' ');
}

/** Parses yyyyMMddHHmmss (Beijing time); undefined for anything else. */
export function parseBeijingCompact(value: string): Date | undefined {
    const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
    if (!match) {
        return undefined;
    }

    const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second) - beijingOffsetMs);
    return formatBeijingCompact(date) === value ? date : undefined;      // rejects 20241399... and other overflows
}
