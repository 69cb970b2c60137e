import * as Crypto from 'crypto';

/** AEAD_AES_256_GCM with the APIv3 key (reference §3.9): ciphertext = base64(encrypted ‖ 16-byte tag). */

export interface EncryptedResource {
    algorithm: string;
    ciphertext: string;
    associated_data?: string;
    nonce: string;
}

const tagLength = 16;

export class DecryptionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'DecryptionError';
    }
}

export function encryptGcm(plaintext: string, apiV3Key: string, nonce: string, associatedData = ''): string {
    const cipher = Crypto.createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

export function decryptGcm(ciphertext: string, apiV3Key: string, nonce: string, associatedData = ''): string {
    const data = Buffer.from(ciphertext, 'base64');
    if (data.length <= tagLength || Buffer.byteLength(apiV3Key) !== 32) {
        throw new DecryptionError('ciphertext too short or APIv3 key not 32 bytes');
    }

    try {
        const decipher = Crypto.createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
        decipher.setAAD(Buffer.from(associatedData, 'utf8'));
        decipher.setAuthTag(data.subarray(data.length - tagLength));
        return Buffer.concat([decipher.update(data.subarray(0, data.length - tagLength)), decipher.final()]).toString('utf8');
    }
    catch (err) {
        throw new DecryptionError(`AEAD_AES_256_GCM decryption failed: ${(err as Error).message}`);
    }
}

export function decryptResource(resource: EncryptedResource, apiV3Key: string): string {
    if (resource.algorithm !== 'AEAD_AES_256_GCM' || typeof resource.ciphertext !== 'string' || typeof resource.nonce !== 'string') {
        throw new DecryptionError(`unsupported or malformed resource (algorithm ${String(resource.algorithm)})`);
    }

    return decryptGcm(resource.ciphertext, apiV3Key, resource.nonce, resource.associated_data ?? '');
}
