import * as Crypto from 'crypto';

// A cycle, harmless: parseInteger is only called once both modules are loaded.
import { parseInteger } from './index';

/**
 * The `ops` section of the config: WeChat's server-side mini-program services besides login and pay (message push,
 * shipping management, subscribe messages). Reference wechat-miniprogram-ops §2–§4.
 */

export type PushMode = 'plaintext' | 'compatible' | 'safe';
export type PushFormat = 'json' | 'xml';

export interface WechatOpsConfig {
    push: {
        /** The Token of the MP console's message-push settings; undefined: the push route answers 404. */
        token?: string;
        /** The 43-character EncodingAESKey (compatible and safe mode). */
        encodingAesKey?: string;
        mode: PushMode;
        format: PushFormat;
    };
    /** The subscribe message sent when an order ships; undefined: no notice. */
    shipNotice?: {
        templateId: string;
        /** template keyword → what fills it (`goods`, `trackingNo`, `expressCompany`, `shippedAt`, `outTradeNo`, `totalFee`). */
        fields: Record<string, ShipNoticeSource>;
        page?: string;
        miniprogramState: 'developer' | 'trial' | 'formal';
    };
    /** How long is_trade_managed and get_delivery_list answers are kept per instance. */
    cacheSeconds: number;
    /** After an upload, when the shipping state is first asked of WeChat (get_order), and then every so often. */
    pollSeconds: number;
}

export const shipNoticeSources = ['goods', 'trackingNo', 'expressCompany', 'shippedAt', 'outTradeNo', 'totalFee'] as const;
export type ShipNoticeSource = typeof shipNoticeSources[number];

type Env = Record<string, string | undefined>;

const defaultNoticeFields = 'thing1=goods,character_string2=trackingNo,thing3=expressCompany,date4=shippedAt';

export function loadWechatOpsConfig(env: Env, problems: string[], { sandbox, jwtSecret }: { sandbox: boolean; jwtSecret: string }): WechatOpsConfig {
    // With the simulator mounted both sides share this config: derive what is not given, as the merchant API key secret is.
    const derived = (label: string) => Buffer.from(Crypto.hkdfSync('sha256', jwtSecret || 'unset', '', `wxshop ${label}`, 32));
    const token = env.WECHAT_PUSH_TOKEN ?? (sandbox ? derived('push token').toString('hex').slice(0, 32) : undefined);
    if (token !== undefined && !/^[A-Za-z0-9]{3,32}$/.test(token)) {
        problems.push('WECHAT_PUSH_TOKEN must be 3 to 32 letters or digits (the MP console\'s rule)');
    }

    const encodingAesKey = env.WECHAT_PUSH_AES_KEY ?? (sandbox ? derived('push aes key').toString('base64').slice(0, 43) : undefined);
    if (encodingAesKey !== undefined && (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey) || Buffer.from(`${encodingAesKey}=`, 'base64').length !== 32)) {
        problems.push('WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey of the MP console');
    }

    const mode = (env.WECHAT_PUSH_MODE ?? (encodingAesKey ? 'safe' : 'plaintext')) as PushMode;
    if (!['plaintext', 'compatible', 'safe'].includes(mode)) {
        problems.push(`WECHAT_PUSH_MODE must be plaintext, compatible or safe (got "${mode}")`);
    }
    else if (mode !== 'plaintext' && !encodingAesKey) {
        problems.push(`WECHAT_PUSH_MODE=${mode} needs WECHAT_PUSH_AES_KEY`);
    }

    const format = (env.WECHAT_PUSH_FORMAT ?? 'json') as PushFormat;
    if (format !== 'json' && format !== 'xml') {
        problems.push(`WECHAT_PUSH_FORMAT must be json or xml (got "${format}")`);
    }

    const templateId = env.WECHAT_SHIP_NOTICE_TEMPLATE ?? (sandbox ? 'sandbox-ship-notice' : undefined);
    const shipNotice = templateId === undefined ? undefined : {
        templateId,
        fields: noticeFields(env.WECHAT_SHIP_NOTICE_FIELDS ?? defaultNoticeFields, problems),
        page: env.WECHAT_SHIP_NOTICE_PAGE,
        miniprogramState: (env.WECHAT_SHIP_NOTICE_STATE ?? 'formal') as 'developer' | 'trial' | 'formal'
    };
    if (shipNotice && !['developer', 'trial', 'formal'].includes(shipNotice.miniprogramState)) {
        problems.push('WECHAT_SHIP_NOTICE_STATE must be developer, trial or formal');
    }

    return {
        push: { token, encodingAesKey, mode, format },
        shipNotice,
        cacheSeconds: parseInteger(env.WECHAT_OPS_CACHE_SECONDS, 'WECHAT_OPS_CACHE_SECONDS', 3600, 0, 86400, problems),
        pollSeconds: parseInteger(env.WECHAT_SHIPPING_POLL_SECONDS, 'WECHAT_SHIPPING_POLL_SECONDS', 3600, 1, 7 * 86400, problems)
    };
}

/** `keyword=source,...`: each keyword is a template field (its prefix is its type), each source one of shipNoticeSources. */
function noticeFields(text: string, problems: string[]): Record<string, ShipNoticeSource> {
    const fields: Record<string, ShipNoticeSource> = {};
    for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
        const [keyword, source] = pair.split('=').map((part) => part?.trim());
        if (!/^[a-z_]+\d+$/.test(keyword ?? '') || !(shipNoticeSources as readonly string[]).includes(source ?? '')) {
            problems.push(`WECHAT_SHIP_NOTICE_FIELDS: "${pair}" is not keyword=source (sources: ${shipNoticeSources.join(', ')})`);
            continue;
        }

        fields[keyword] = source as ShipNoticeSource;
    }

    return fields;
}
