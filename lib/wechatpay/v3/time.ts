/** API v3 times: RFC 3339 with the Beijing offset, e.g. 2015-05-20T13:29:35+08:00 (reference §0). */

const beijingOffsetMs = 8 * 3600_000;

export function formatRfc3339Beijing(date: Date): string {
    return `${new Date(date.getTime() + beijingOffsetMs).toISOString().slice(0, 19)}+08:00`;
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 date-time with seconds and an offset; undefined for anything else (2024-13-01, no offset...). */
export function parseRfc3339(value: string): Date | undefined {
    const match = rfc3339.exec(value);
    if (!match) {
        return undefined;
    }

    const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
    const utc = Date.UTC(year, month - 1, day, hour, minute, second);
    const check = new Date(utc);
    if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
        return undefined;
    }

    const zone = match[8];
    const offsetMs = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    return new Date(utc - offsetMs);
}
