import * as Crypto from 'crypto';

import { createStaff } from '../lib/merchant/staff';
import type { StaffRole } from '../models/merchant';
import { json, TestApp } from './helpers';

export interface StaffLogin {
    id: number;
    username: string;
    password: string;
    auth: { authorization: string };
}

/** A new staff account of a role (through the library, as the CLI makes one), logged in through POST /merchant/login. */
export async function staffLogin(app: TestApp, role: StaffRole): Promise<StaffLogin> {
    const username = `${role}-${Crypto.randomBytes(4).toString('hex')}`;
    const password = Crypto.randomBytes(12).toString('base64url');
    await createStaff(app.context.models, { username, password, role });
    const res = await json(app.server, { method: 'POST', url: '/merchant/login', payload: { username, password } });
    if (res.statusCode !== 200) {
        throw new Error(`merchant login failed: ${res.statusCode} ${JSON.stringify(res.body)}`);
    }

    return { id: res.body.user.id, username, password, auth: { authorization: `Bearer ${res.body.token}` } };
}

/** A new API key with these scopes, made by the owner through POST /merchant/api-keys. */
export async function apiKey(app: TestApp, owner: StaffLogin, scopes: string[]): Promise<{ id: number; key: string; auth: { authorization: string } }> {
    const res = await json(app.server, { method: 'POST', url: '/merchant/api-keys', headers: owner.auth, payload: { name: `key ${scopes.join(' ')}`, scopes } });
    if (res.statusCode !== 201) {
        throw new Error(`api key failed: ${res.statusCode} ${JSON.stringify(res.body)}`);
    }

    return { id: res.body.id, key: res.body.key, auth: { authorization: `Bearer ${res.body.key}` } };
}

export function merchant(app: TestApp, who: { auth: { authorization: string } } | undefined, method: string, url: string, payload?: object) {
    return json(app.server, { method, url, headers: who?.auth ?? {}, payload });
}
