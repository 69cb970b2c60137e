import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Path from 'path';

import { maskCredentials } from '../lib/masked-url';
import { projectRoot } from '../lib/paths';
import { demoV3Env } from './demo-v3';
import { loadPayV3Config, PayV3Config } from './pay-v3';
import { loadRefundConfig, RefundConfig } from './refunds';
import { loadWechatOpsConfig, WechatOpsConfig } from './wechat-ops';

export type SignType = 'MD5' | 'HMAC-SHA256';

export interface Config {
    production: boolean;
    /** No WeChat credentials were given: the simulator plays WeChat with generated demo credentials. */
    demo: boolean;
    /** Mount the WeChat simulator at /sandbox (demo mode, or SANDBOX=true). */
    sandbox: boolean;
    host: string;
    port: number;
    logLevel: string;
    dataDir: string;
    database: { url: string; logging: boolean; poolMax: number };
    jwt: { secret: string; issuer: string; audience: string; ttlSeconds: number };
    wechat: {
        appId: string;
        secret: string;
        /** Undefined means "the simulator mounted on this server". */
        apiBase?: string;
        timeoutMs: number;
    };
    pay: {
        mchId: string;
        apiKey: string;
        apiBase?: string;
        signType: SignType;
        /** Undefined means "this server's own /orders/pay/notify". */
        notifyUrl?: string;
        timeoutMs: number;
    };
    /** WeChat Pay API v3 (config/pay-v3.ts). */
    v3: PayV3Config;
    orders: { ttlSeconds: number };
    /** What one buyer may hold in unpaid orders at once (stock hoarding). */
    orderLimits: { openOrdersPerUser: number; openUnitsPerUser: number };
    /** How long each instance keeps a goods page (0: not at all). */
    goodsCacheMs: number;
    jobs: { enabled: boolean; intervalMs: number };
    rateLimit: { loginPerMinute: number; ordersPerMinute: number; redisUrl?: string };
    /** Proxies whose X-Forwarded-For is believed when taking the payer's IP. */
    trustedProxies: string[];
    /** Check every response against its documented schema (off in production: it costs CPU on every request). */
    validateResponses: boolean;
    http: HttpConfig;
    merchant: MerchantConfig;
    /** Refunds (WeChat Pay v2): the merchant API certificate for mutual TLS and the refund settings. */
    refunds: RefundConfig;
    webhooks: WebhookConfig;
    /** Message push, shipping management, subscribe messages (config/wechat-ops.ts). */
    ops: WechatOpsConfig;
}

export interface HttpConfig {
    /** A request whose headers and body have not all arrived after this long is answered 408 and its connection closed. */
    requestTimeoutMs: number;
    /** Send Strict-Transport-Security (production: it is served over https behind its proxy). */
    hsts: boolean;
}

export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
        this.name = 'ConfigError';
    }
}

type Env = Record<string, string | undefined>;

const credentialVariables = ['WECHAT_APPID', 'WECHAT_SECRET', 'WECHATPAY_MCHID', 'WECHATPAY_KEY'] as const;

/** WeChat's own hosts, used when the simulator is not mounted and no base URL is configured. */
export const wechatApiHost = 'https://api.weixin.qq.com';
export const wechatPayApiHost = 'https://api.mch.weixin.qq.com';

export function loadConfig(rawEnv: Env = process.env): Config {
    const problems: string[] = [];
    // An empty variable (`WECHAT_APPID=` in a .env template) means "not set", everywhere.
    const env: Env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => nonEmpty(value)));
    const production = env.NODE_ENV === 'production';
    const dataDir = Path.resolve(env.DATA_DIR ?? Path.join(projectRoot, 'data'));

    // A v3-only merchant (v3 material, new payments on v3) has no use for the v2 key.
    const v3Only = nonEmpty(env.WECHATPAY_APIV3_KEY) && env.WECHATPAY_API_VERSION !== 'v2';
    const required = credentialVariables.filter((name) => !(v3Only && name === 'WECHATPAY_KEY'));
    const given = required.filter((name) => nonEmpty(env[name]));
    const demo = given.length === 0;
    if (!demo && given.length < required.length) {
        const missing = required.filter((name) => !nonEmpty(env[name]));
        problems.push(`${missing.join(', ')} must be set too: WeChat credentials are all or nothing (got ${given.join(', ')})`);
    }

    const sandboxRequested = parseBoolean(env.SANDBOX, 'SANDBOX', problems);
    const sandbox = demo || sandboxRequested === true;
    if (production && sandbox) {
        problems.push(demo
            ? `NODE_ENV=production needs real WeChat credentials: set ${credentialVariables.join(', ')}`
            : 'SANDBOX=true is not allowed with NODE_ENV=production: the simulator would accept forged payments');
    }

    const secrets = demo || !nonEmpty(env.JWT_SECRET) ? demoSecrets(dataDir, production) : undefined;
    const jwtSecret = env.JWT_SECRET ?? secrets?.jwtSecret ?? '';
    if (production && !nonEmpty(env.JWT_SECRET)) {
        problems.push('JWT_SECRET is required with NODE_ENV=production (at least 32 characters)');
    }
    else if (jwtSecret.length < 32) {
        problems.push('JWT_SECRET must be at least 32 characters long');
    }

    if (production && !nonEmpty(env.DATABASE_URL)) {
        problems.push('DATABASE_URL is required with NODE_ENV=production (postgres://, mysql://, mariadb:// or sqlite:)');
    }
    const databaseUrl = env.DATABASE_URL ?? `sqlite:${Path.join(dataDir, 'wxshop.sqlite')}`;
    if (!/^(postgres|postgresql|mysql|mariadb):\/\/|^sqlite:/.test(databaseUrl)) {
        problems.push(`DATABASE_URL must start with postgres://, mysql://, mariadb:// or sqlite: (got "${maskCredentials(databaseUrl)}")`);
    }

    const apiKey = env.WECHATPAY_KEY ?? secrets?.payKey ?? '';
    // A missing key is already reported with the other credentials.
    if (!demo && env.WECHATPAY_KEY !== undefined && apiKey.length !== 32) {
        problems.push('WECHATPAY_KEY must be the 32-character API v2 key from the merchant platform');
    }

    const signType = (env.WECHATPAY_SIGN_TYPE ?? 'MD5') as SignType;
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
        problems.push(`WECHATPAY_SIGN_TYPE must be MD5 or HMAC-SHA256 (got "${signType}")`);
    }

    const apiBase = baseUrl(env, 'WECHAT_API_BASE', sandbox ? undefined : wechatApiHost, production, problems);
    const payApiBase = baseUrl(env, 'WECHATPAY_API_BASE', sandbox ? undefined : wechatPayApiHost, production, problems);

    const notifyUrl = env.WECHATPAY_NOTIFY_URL;
    if (notifyUrl !== undefined && !/^https?:\/\/[^?]+$/.test(notifyUrl)) {
        problems.push('WECHATPAY_NOTIFY_URL must be an http(s) URL without a query string');
    }
    if (production && !notifyUrl?.startsWith('https://')) {
        problems.push('WECHATPAY_NOTIFY_URL is required with NODE_ENV=production and must be https:// (WeChat only calls https)');
    }

    const config: Config = {
        production,
        demo,
        sandbox,
        host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
        port: parseInteger(env.PORT, 'PORT', 3000, 0, 65535, problems),
        logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
        dataDir,
        database: {
            url: databaseUrl,
            logging: env.DATABASE_LOGGING === 'true',
            poolMax: parseInteger(env.DATABASE_POOL_MAX, 'DATABASE_POOL_MAX', 10, 1, 500, problems)
        },
        jwt: {
            secret: jwtSecret,
            issuer: env.JWT_ISSUER ?? 'wxshop',
            audience: env.JWT_AUDIENCE ?? 'wxshop-miniprogram',
            ttlSeconds: parseInteger(env.JWT_TTL_SECONDS, 'JWT_TTL_SECONDS', 7200, 60, 30 * 86400, problems)
        },
        wechat: {
            appId: env.WECHAT_APPID ?? secrets?.appId ?? '',
            secret: env.WECHAT_SECRET ?? secrets?.appSecret ?? '',
            apiBase,
            timeoutMs: parseInteger(env.WECHAT_TIMEOUT_MS, 'WECHAT_TIMEOUT_MS', 5000, 100, 60000, problems)
        },
        pay: {
            mchId: env.WECHATPAY_MCHID ?? secrets?.mchId ?? '',
            apiKey,
            apiBase: payApiBase,
            signType,
            notifyUrl,
            timeoutMs: parseInteger(env.WECHATPAY_TIMEOUT_MS, 'WECHATPAY_TIMEOUT_MS', 5000, 100, 60000, problems)
        },
        v3: loadPayV3Config(demo && env.WECHATPAY_API_VERSION === 'v3' && !nonEmpty(env.WECHATPAY_APIV3_KEY) ? { ...env, ...demoV3Env(dataDir) } : env, problems, { production, sandbox }),
        // At least 6 minutes: WeChat refuses a time_expire less than 5 minutes ahead (see lib/orders/checkout.ts).
        orders: { ttlSeconds: parseInteger(env.ORDER_TTL, 'ORDER_TTL', 900, 360, 7 * 86400, problems) },
        orderLimits: {
            openOrdersPerUser: parseInteger(env.MAX_OPEN_ORDERS_PER_USER, 'MAX_OPEN_ORDERS_PER_USER', 10, 1, 1e6, problems),
            openUnitsPerUser: parseInteger(env.MAX_OPEN_UNITS_PER_USER, 'MAX_OPEN_UNITS_PER_USER', 999, 1, 1e9, problems)
        },
        goodsCacheMs: parseInteger(env.GOODS_CACHE_MS, 'GOODS_CACHE_MS', 1000, 0, 60_000, problems),
        jobs: {
            enabled: parseBoolean(env.JOBS, 'JOBS', problems) ?? true,
            intervalMs: parseInteger(env.JOBS_INTERVAL_MS, 'JOBS_INTERVAL_MS', 5000, 10, 3600000, problems)
        },
        rateLimit: {
            loginPerMinute: parseInteger(env.RATE_LIMIT_LOGIN, 'RATE_LIMIT_LOGIN', 60, 1, 1e9, problems),
            ordersPerMinute: parseInteger(env.RATE_LIMIT_ORDERS, 'RATE_LIMIT_ORDERS', 30, 1, 1e9, problems),
            redisUrl: env.REDIS_URL
        },
        trustedProxies: (env.TRUSTED_PROXIES ?? '').split(',').map((ip) => ip.trim()).filter(Boolean),
        validateResponses: parseBoolean(env.RESPONSE_VALIDATION, 'RESPONSE_VALIDATION', problems) ?? !production,
        http: httpConfig(env, production, problems),
        merchant: merchantConfig(env, jwtSecret, problems),
        refunds: loadRefundConfig(env, { demo, dataDir, mchId: env.WECHATPAY_MCHID ?? secrets?.mchId ?? '' }, problems, (value, name) => parseBoolean(value, name, problems)),
        webhooks: webhookConfig(env, jwtSecret, production, problems),
        ops: loadWechatOpsConfig(env, problems, { sandbox, jwtSecret })
    };

    if (problems.length) {
        throw new ConfigError(problems);
    }

    return config;
}

function nonEmpty(value: string | undefined): value is string {
    return value !== undefined && value !== '';
}

/**
 * A WeChat base URL: http(s), no query, no trailing slash. Without the simulator it defaults to WeChat's host. In
 * production only https: jscode2session sends the AppSecret in its query string, and the Pay API signs with the key.
 */
function baseUrl(env: Env, name: string, fallback: string | undefined, production: boolean, problems: string[]): string | undefined {
    const value = env[name];
    if (value === undefined) {
        return fallback;
    }

    if (!/^https?:\/\/[^?#\s]+$/.test(value)) {
        problems.push(`${name} must be an http(s) URL without a query string (got "${value}")`);
        return fallback;
    }

    if (production && !value.startsWith('https://')) {
        problems.push(`${name} must be https:// with NODE_ENV=production: over http the AppSecret and signed payments travel in cleartext (got "${value}")`);
        return fallback;
    }

    return value.replace(/\/+$/, '');
}

function httpConfig(env: Env, production: boolean, problems: string[]): HttpConfig {
    return {
        requestTimeoutMs: parseInteger(env.REQUEST_TIMEOUT_MS, 'REQUEST_TIMEOUT_MS', 10_000, 100, 300_000, problems),
        hsts: production
    };
}

export function parseInteger(value: string | undefined, name: string, fallback: number, min: number, max: number, problems: string[]): number {
    if (value === undefined) {
        return fallback;
    }

    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        problems.push(`${name} must be an integer from ${min} to ${max} (got "${value}")`);
        return fallback;
    }

    return parsed;
}

function parseBoolean(value: string | undefined, name: string, problems: string[]): boolean | undefined {
    if (value === undefined) {
        return undefined;
    }

    if (value === 'true' || value === '1') {
        return true;
    }

    if (value === 'false' || value === '0') {
        return false;
    }

    problems.push(`${name} must be true or false (got "${value}")`);
    return undefined;
}

interface DemoSecrets {
    jwtSecret: string;
    appId: string;
    appSecret: string;
    mchId: string;
    payKey: string;
}

/**
 * Secrets for demo mode, generated once and kept under data/ so tokens survive restarts. Never used in production.
 */
function demoSecrets(dataDir: string, production: boolean): DemoSecrets | undefined {
    if (production) {
        return undefined;
    }

    const file = Path.join(dataDir, 'demo-secrets.json');
    try {
        return JSON.parse(Fs.readFileSync(file, 'utf8')) as DemoSecrets;
    }
    catch {
        const secrets: DemoSecrets = {
            jwtSecret: Crypto.randomBytes(32).toString('base64url'),
            appId: `wx${Crypto.randomBytes(8).toString('hex')}`,
            appSecret: Crypto.randomBytes(16).toString('hex'),
            mchId: String(1900000000 + Crypto.randomInt(99999999)),
            payKey: Crypto.randomBytes(16).toString('hex')
        };
        Fs.mkdirSync(dataDir, { recursive: true });
        Fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
        return secrets;
    }
}

// ---- The merchant side (staff logins, API keys) ----

export interface MerchantConfig {
    /** The audience of staff tokens: never the buyers' one, so neither token works where the other belongs. */
    audience: string;
    tokenTtlSeconds: number;
    /** Failed logins allowed per client IP and per username in one window, before 429. */
    loginFailuresPerIp: number;
    loginFailuresPerUsername: number;
    loginWindowSeconds: number;
    /** The key of the keyed hash API keys are stored under (lib/merchant/api-keys.ts). */
    apiKeySecret: string;
}

function merchantConfig(env: Env, jwtSecret: string, problems: string[]): MerchantConfig {
    const audience = env.MERCHANT_JWT_AUDIENCE ?? 'wxshop-merchant';
    if (audience === (env.JWT_AUDIENCE ?? 'wxshop-miniprogram')) {
        problems.push('MERCHANT_JWT_AUDIENCE must differ from JWT_AUDIENCE: a buyer token must never open a merchant route');
    }

    const apiKeySecret = env.MERCHANT_API_KEY_SECRET
        ?? Buffer.from(Crypto.hkdfSync('sha256', jwtSecret, '', 'wxshop merchant api keys', 32)).toString('hex');
    if (apiKeySecret.length < 32) {
        problems.push('MERCHANT_API_KEY_SECRET must be at least 32 characters long');
    }

    return {
        audience,
        tokenTtlSeconds: parseInteger(env.MERCHANT_TOKEN_TTL_SECONDS, 'MERCHANT_TOKEN_TTL_SECONDS', 3600, 60, 86400, problems),
        loginFailuresPerIp: parseInteger(env.MERCHANT_LOGIN_FAILURES_PER_IP, 'MERCHANT_LOGIN_FAILURES_PER_IP', 20, 1, 1e6, problems),
        loginFailuresPerUsername: parseInteger(env.MERCHANT_LOGIN_FAILURES_PER_USERNAME, 'MERCHANT_LOGIN_FAILURES_PER_USERNAME', 5, 1, 1e6, problems),
        loginWindowSeconds: parseInteger(env.MERCHANT_LOGIN_WINDOW_SECONDS, 'MERCHANT_LOGIN_WINDOW_SECONDS', 900, 1, 86400, problems),
        apiKeySecret
    };
}

// ---- Webhooks (lib/webhooks/) ----

export interface WebhookConfig {
    /** Endpoints may be on loopback, private and other special addresses (tests, a receiver on the same machine). */
    allowPrivate: boolean;
    /** Endpoints must be https (production). */
    requireHttps: boolean;
    /** The key each endpoint's signing secret is derived from (lib/webhooks/secrets.ts). */
    secretKey: string;
    /** How long the previous secret still signs after a rotation. */
    secretOverlapSeconds: number;
    attemptTimeoutMs: number;
    /** A delivery is retried (exponential backoff with jitter) until it is this old, then marked failed. */
    retryForSeconds: number;
    /** An endpoint whose deliveries have failed without a success for this long is disabled. */
    disableAfterSeconds: number;
    /** Deliveries one instance attempts at once. */
    concurrency: number;
}

function webhookConfig(env: Env, jwtSecret: string, production: boolean, problems: string[]): WebhookConfig {
    const secretKey = env.WEBHOOK_SECRET_KEY
        ?? Buffer.from(Crypto.hkdfSync('sha256', jwtSecret, '', 'wxshop webhook secrets', 32)).toString('hex');
    if (secretKey.length < 32) {
        problems.push('WEBHOOK_SECRET_KEY must be at least 32 characters long');
    }

    const allowPrivate = parseBoolean(env.WEBHOOK_ALLOW_PRIVATE, 'WEBHOOK_ALLOW_PRIVATE', problems) ?? false;
    if (production && allowPrivate) {
        problems.push('WEBHOOK_ALLOW_PRIVATE=true is refused with NODE_ENV=production: it lets an endpoint reach the internal network');
    }

    const day = 86400;
    return {
        allowPrivate,
        requireHttps: production,
        secretKey,
        secretOverlapSeconds: parseInteger(env.WEBHOOK_SECRET_OVERLAP_SECONDS, 'WEBHOOK_SECRET_OVERLAP_SECONDS', day, 0, 30 * day, problems),
        attemptTimeoutMs: parseInteger(env.WEBHOOK_TIMEOUT_MS, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000, problems),
        retryForSeconds: parseInteger(env.WEBHOOK_RETRY_FOR_SECONDS, 'WEBHOOK_RETRY_FOR_SECONDS', 3 * day, 3 * day, 30 * day, problems),
        disableAfterSeconds: parseInteger(env.WEBHOOK_DISABLE_AFTER_SECONDS, 'WEBHOOK_DISABLE_AFTER_SECONDS', 5 * day, 3600, 60 * day, problems),
        concurrency: parseInteger(env.WEBHOOK_CONCURRENCY, 'WEBHOOK_CONCURRENCY', 8, 1, 100, problems)
    };
}
