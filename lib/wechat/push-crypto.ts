import * as Crypto from 'crypto';

/**
 * The message-push envelope of WeChat's servers (reference wechat-miniprogram-ops §3): SHA-1 signatures over the
 * sorted strings, and the safe mode's AES-256-CBC with the key's first 16 bytes as IV and PKCS#7 padding to 32.
 * Shared by the backend's push route and the simulator that sends the pushes.
 */

export class PushCryptoError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'PushCryptoError';
    }
}

/** hex(sha1(sorted values joined)): `signature` over token, timestamp, nonce; `msg_signature` adds Encrypt. */
export function pushSignature(...values: string[]): string {
    return Crypto.createHash('sha1').update([...values].sort().join('')).digest('hex');
}

/** A constant-time comparison of two hex signatures (false for anything of another length). */
export function signatureMatches(expected: string, given: unknown): boolean {
    if (typeof given !== 'string' || given.length !== expected.length) {
        return false;
    }

    return Crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(given.toLowerCase()));
}

/** The 32-byte AES key of a 43-character EncodingAESKey; anything else is refused. */
export function aesKeyOf(encodingAesKey: string): Buffer {
    if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) {
        throw new PushCryptoError('EncodingAESKey must be 43 base64 characters');
    }

    const key = Buffer.from(`${encodingAesKey}=`, 'base64');
    if (key.length !== 32) {
        throw new PushCryptoError('EncodingAESKey does not decode to 32 bytes');
    }

    return key;
}

const blockSize = 32;

/** Encrypt = base64(AES(random16 ‖ len32be ‖ msg ‖ appid ‖ pkcs7(32))). `random16` is 16 bytes or characters. */
export function encryptPush(encodingAesKey: string, message: string, appId: string, random16: Buffer | string = Crypto.randomBytes(16)): string {
    const key = aesKeyOf(encodingAesKey);
    const random = Buffer.from(random16);
    if (random.length !== 16) {
        throw new PushCryptoError('the random prefix must be 16 bytes');
    }

    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const plain = Buffer.concat([random, length, body, Buffer.from(appId, 'utf8')]);
    const pad = blockSize - (plain.length % blockSize);
    const cipher = Crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

/** The message inside an Encrypt, after checking its padding, length and that it was made for `appId`. */
export function decryptPush(encodingAesKey: string, encrypted: string, appId: string): string {
    const key = aesKeyOf(encodingAesKey);
    const cipherText = Buffer.from(encrypted, 'base64');
    if (!cipherText.length || cipherText.length % blockSize !== 0) {
        throw new PushCryptoError('Encrypt is not a whole number of 32-byte blocks');
    }

    const decipher = Crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(cipherText), decipher.final()]);
    const pad = padded[padded.length - 1];
    if (pad < 1 || pad > blockSize || !padded.subarray(padded.length - pad).every((byte) => byte === pad)) {
        throw new PushCryptoError('bad padding');
    }

    const plain = padded.subarray(0, padded.length - pad);
    if (plain.length < 20) {
        throw new PushCryptoError('too short');
    }

    const length = plain.readUInt32BE(16);
    if (20 + length > plain.length) {
        throw new PushCryptoError('message length past the end');
    }

    if (plain.subarray(20 + length).toString('utf8') !== appId) {
        throw new PushCryptoError('the message was encrypted for another appid');
    }

    return plain.subarray(20, 20 + length).toString('utf8');
}
