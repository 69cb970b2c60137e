import * as Crypto from 'crypto';

import { formatBeijingCompact } from '../lib/wechatpay/time';

/** Identifiers shaped like WeChat's (reference §0), so clients that check lengths or prefixes are exercised. */

export function openid(): string {
    return `o${Crypto.randomBytes(21).toString('base64url').slice(0, 27)}`;
}

export function loginCode(): string {
    return Crypto.randomBytes(24).toString('base64url').slice(0, 32);
}

export function sessionKey(): string {
    return Crypto.randomBytes(16).toString('base64');
}

export function rid(): string {
    return [8, 8, 8].map((length) => Crypto.randomBytes(length / 2).toString('hex')).join('-');
}

export function nonce(): string {
    return Crypto.randomBytes(16).toString('hex');
}

/** `wx` + 14-digit time + hex, 36 characters, like 'wx201410272009395522657a690389285100'. */
export function prepayId(now: number): string {
    return `wx${formatBeijingCompact(new Date(now))}${Crypto.randomBytes(10).toString('hex')}`;
}

/** 28 digits, like '4200000215201811190261405420'. */
export function transactionId(now: number): string {
    return `4200${randomDigits(6)}${formatBeijingCompact(new Date(now)).slice(0, 8)}${randomDigits(10)}`;
}

export function codeUrlToken(): string {
    return Crypto.randomBytes(12).toString('base64url');
}

function randomDigits(count: number): string {
    let digits = '';
    while (digits.length < count) {
        digits += Crypto.randomInt(10);
    }

    return digits;
}


/** 29 digits, like '50000408942018111907145868882'. */
export function refundId(now: number): string {
    return `5000${randomDigits(6)}${formatBeijingCompact(new Date(now)).slice(0, 8)}${randomDigits(11)}`;
}
