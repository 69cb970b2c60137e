import * as Crypto from 'crypto';
import * as Fs from 'fs';
import * as Path from 'path';

import type { Models } from '../../models';
import type { StaffRole } from '../../models/merchant';
import { createStaff } from './staff';

export interface DemoStaff {
    username: string;
    password: string;
    role: StaffRole;
}

declare module '@hapi/hapi' {
    interface ServerApplicationState {
        /** Demo mode only: the demo staff logins, for the start banner. */
        demoStaff?: DemoStaff[];
    }
}

const demoAccounts: Array<{ username: string; role: StaffRole; secret: string }> = [
    { username: 'demo', role: 'owner', secret: 'merchantOwnerPassword' },
    { username: 'demo-operator', role: 'operator', secret: 'merchantOperatorPassword' }
];

/**
 * Demo mode: an owner `demo` and an operator `demo-operator`, their generated passwords kept in
 * data/demo-secrets.json beside the other demo secrets (so they survive restarts). Never called outside demo mode.
 */
export async function ensureDemoStaff(dataDir: string, models: Models): Promise<DemoStaff[]> {
    const file = Path.join(dataDir, 'demo-secrets.json');
    const secrets: Record<string, string> = Fs.existsSync(file) ? JSON.parse(Fs.readFileSync(file, 'utf8')) : {};
    let changed = false;
    for (const account of demoAccounts) {
        if (!secrets[account.secret]) {
            secrets[account.secret] = Crypto.randomBytes(12).toString('base64url');
            changed = true;
        }
    }

    if (changed) {
        Fs.mkdirSync(dataDir, { recursive: true });
        Fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    }

    const staff: DemoStaff[] = [];
    for (const account of demoAccounts) {
        const password = secrets[account.secret];
        if (!await models.Staff.findOne({ where: { username: account.username } })) {
            await createStaff(models, { username: account.username, password, role: account.role });
        }

        staff.push({ username: account.username, password, role: account.role });
    }

    return staff;
}
