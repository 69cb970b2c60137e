import * as Crypto from 'crypto';
import { promisify } from 'util';

const scrypt = promisify(Crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: Crypto.ScryptOptions) => Promise<Buffer>;

/** scrypt's cost: 2^15 × 8 × 128 bytes = 32 MiB of memory per hash, tens of milliseconds. Stored with each hash. */
const defaults = { N: 2 ** 15, r: 8, p: 1 };
const keyLength = 32;
const maxmem = 128 * 1024 * 1024;

/** `scrypt$N$r$p$<salt base64>$<hash base64>`, with a fresh 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
    const salt = Crypto.randomBytes(16);
    const hash = await scrypt(password, salt, keyLength, { ...defaults, maxmem });
    return ['scrypt', defaults.N, defaults.r, defaults.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Compares in constant time, with the parameters the hash was made with. A malformed hash never verifies. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
    const [scheme, N, r, p, salt, hash] = stored.split('$');
    if (scheme !== 'scrypt' || !salt || !hash) {
        return false;
    }

    const expected = Buffer.from(hash, 'base64');
    const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(N), r: Number(r), p: Number(p), maxmem });
    return Crypto.timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time a real verification would on a login for an unknown username, so the answer's timing does not
 * tell which usernames exist.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
    dummy ??= hashPassword(Crypto.randomBytes(16).toString('hex'));
    await verifyPassword(password, await dummy);
    return false;
}
