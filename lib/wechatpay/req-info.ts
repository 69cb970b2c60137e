import * as Crypto from 'crypto';

/**
 * The `req_info` of a v2 refund notification (reference §2.10): AES-256-ECB with PKCS#7 padding, base64. The key is
 * the 32 ASCII characters of the lower-case hex md5 of the API key, not the 16 digest bytes.
 */
function reqInfoKey(apiKey: string): Buffer {
    return Buffer.from(Crypto.createHash('md5').update(apiKey, 'utf8').digest('hex'), 'ascii');
}

export function encryptReqInfo(plaintext: string, apiKey: string): string {
    const cipher = Crypto.createCipheriv('aes-256-ecb', reqInfoKey(apiKey), null);
    return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** Throws when the text does not decrypt with this key (wrong key, truncated, not base64). */
export function decryptReqInfo(reqInfo: string, apiKey: string): string {
    const decipher = Crypto.createDecipheriv('aes-256-ecb', reqInfoKey(apiKey), null);
    return Buffer.concat([decipher.update(Buffer.from(reqInfo, 'base64')), decipher.final()]).toString('utf8');
}
