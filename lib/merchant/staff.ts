import type { MerchantModels, Staff, StaffRole } from '../../models/merchant';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './passwords';

/** Usernames are kept lower-case, so `Alice` and `alice` are one account on every database. */
export const usernamePattern = /^[a-z0-9][a-z0-9._-]{2,63}$/;
export const minPasswordLength = 10;

export class StaffInputError extends Error { }

export async function createStaff(models: MerchantModels, input: { username: string; password: string; role: StaffRole }): Promise<Staff> {
    const username = input.username.toLowerCase();
    if (!usernamePattern.test(username)) {
        throw new StaffInputError('The username must be 3 to 64 characters: letters, digits, ".", "_" or "-"');
    }

    if (input.password.length < minPasswordLength || input.password.length > 1024) {
        throw new StaffInputError(`The password must be ${minPasswordLength} to 1024 characters long`);
    }

    if (await models.Staff.findOne({ where: { username } })) {
        throw new StaffInputError(`A staff account "${username}" already exists`);
    }

    return models.Staff.create({ username, passwordHash: await hashPassword(input.password), role: input.role });
}

/**
 * The enabled staff member with this username and password, or undefined. An unknown username costs the same
 * scrypt as a wrong password, so the timing tells nothing.
 */
export async function authenticateStaff(models: MerchantModels, username: string, password: string): Promise<Staff | undefined> {
    const staff = await models.Staff.findOne({ where: { username: username.toLowerCase() } });
    if (!staff) {
        await verifyAgainstDummy(password);
        return undefined;
    }

    const valid = await verifyPassword(password, staff.passwordHash);
    return valid && !staff.disabled ? staff : undefined;
}
