import type { WechatOpsConfig } from '../../config/wechat-ops';
import { parseFlatXml } from '../wechatpay/xml';
import { decryptPush, PushCryptoError, pushSignature, signatureMatches } from './push-crypto';

/**
 * Opening a message push from WeChat (reference wechat-miniprogram-ops §3.2–§3.5): the GET handshake, and a POST
 * checked by `signature` in plaintext mode or by `msg_signature` (which covers the ciphertext) in safe mode, then
 * decrypted and parsed in the configured format. Anything that does not verify is refused before it is read.
 */

export class PushRejected extends Error {
    constructor(readonly status: 400 | 401 | 404, message: string) {
        super(message);
        this.name = 'PushRejected';
    }
}

type Query = Record<string, string | undefined>;

function configured(config: WechatOpsConfig['push']): string {
    if (config.token === undefined) {
        throw new PushRejected(404, 'message push is not configured (WECHAT_PUSH_TOKEN)');
    }

    return config.token;
}

function checkSignature(token: string, query: Query): void {
    if (!query.timestamp || !query.nonce || !query.signature) {
        throw new PushRejected(400, 'signature, timestamp and nonce are required');
    }

    if (!signatureMatches(pushSignature(token, query.timestamp, query.nonce), query.signature)) {
        throw new PushRejected(401, 'signature does not verify');
    }
}

/** The GET verification: the raw echostr when the signature over token, timestamp and nonce matches. */
export function verifyHandshake(config: WechatOpsConfig['push'], query: Query): string {
    checkSignature(configured(config), query);
    if (!query.echostr) {
        throw new PushRejected(400, 'echostr is required');
    }

    return query.echostr;
}

async function parseBody(text: string, format: WechatOpsConfig['push']['format']): Promise<Record<string, unknown>> {
    try {
        if (format === 'xml') {
            return await parseFlatXml(text);
        }

        const parsed = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            throw new Error('not an object');
        }

        return parsed;
    }
    catch {
        throw new PushRejected(400, `the push body is not the configured format (${format})`);
    }
}

/** The event of a POST push, verified and (in safe or compatible mode) decrypted. */
export async function openPush(config: WechatOpsConfig['push'], appId: string, query: Query, body: string): Promise<Record<string, unknown>> {
    const token = configured(config);
    checkSignature(token, query);
    const envelope = await parseBody(body, config.format);
    if (query.encrypt_type !== 'aes') {
        if (config.mode === 'safe') {
            throw new PushRejected(400, 'safe mode: a push without encrypt_type=aes is refused');
        }

        return envelope;
    }

    if (config.mode === 'plaintext' || !config.encodingAesKey) {
        throw new PushRejected(400, 'an encrypted push, but message push is configured in plaintext mode');
    }

    const encrypted = envelope.Encrypt;
    if (typeof encrypted !== 'string' || !encrypted) {
        throw new PushRejected(400, 'encrypt_type=aes without Encrypt');
    }

    if (!signatureMatches(pushSignature(token, query.timestamp!, query.nonce!, encrypted), query.msg_signature)) {
        throw new PushRejected(401, 'msg_signature does not verify');
    }

    try {
        return await parseBody(decryptPush(config.encodingAesKey, encrypted, appId), config.format);
    }
    catch (err) {
        if (err instanceof PushCryptoError) {
            throw new PushRejected(400, `Encrypt cannot be opened: ${err.message}`);
        }

        throw err;
    }
}
