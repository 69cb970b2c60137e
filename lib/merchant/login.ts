import type { Config } from '../../config';
import type { MerchantModels } from '../../models/merchant';
import type { LoginFailures } from './login-failures';
import { authenticateStaff } from './staff';
import { issueStaffToken } from './tokens';

export class MerchantLoginRefused extends Error {
    constructor(readonly reason: 'limited' | 'invalid', message: string, readonly retryAfterSeconds = 0) {
        super(message);
        this.name = 'MerchantLoginRefused';
    }
}

/**
 * A staff login: refused while the IP or the username is over its failure limit (the right password included),
 * one answer for an unknown username and a wrong password, a staff token otherwise.
 */
export async function merchantLogin(config: Config, models: MerchantModels, failures: LoginFailures, input: { ip: string; username: string; password: string }) {
    const wait = await failures.retryAfter(input.ip, input.username);
    if (wait) {
        throw new MerchantLoginRefused('limited', `Too many failed logins, try again in ${wait} s`, wait);
    }

    const staff = await authenticateStaff(models, input.username, input.password);
    if (!staff) {
        await failures.recordFailure(input.ip, input.username);
        throw new MerchantLoginRefused('invalid', 'Unknown username or wrong password');
    }

    await failures.clear(input.username);
    return { ...issueStaffToken(config, staff.id), user: { id: staff.id, username: staff.username, role: staff.role } };
}
