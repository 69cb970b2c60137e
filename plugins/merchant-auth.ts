import * as Boom from '@hapi/boom';
import type { Plugin, RouteOptions } from '@hapi/hapi';

import type { AppContext } from '../lib/context';
import type { MerchantActor } from '../lib/merchant/actor';
import { apiKeyPrefix, ApiKeyScope, authenticateApiKey } from '../lib/merchant/api-keys';
import { verifyStaffToken } from '../lib/merchant/tokens';
import type { StaffRole } from '../models/merchant';

/** Who may call a merchant route: staff of these roles (by token), API keys with one of these scopes. */
export interface MerchantAccess {
    roles: StaffRole[];
    keyScopes: ApiKeyScope[];
}

export const merchantAccess = {
    catalogueRead: { roles: ['owner', 'operator', 'finance'], keyScopes: ['merchant:read'] },
    catalogueWrite: { roles: ['owner', 'operator'], keyScopes: ['goods:write'] },
    ordersRead: { roles: ['owner', 'operator', 'finance'], keyScopes: ['orders:read'] },
    ordersWrite: { roles: ['owner', 'operator'], keyScopes: ['orders:write'] },
    refundsWrite: { roles: ['owner', 'finance'], keyScopes: ['refunds:write'] },
    payments: { roles: ['owner', 'finance'], keyScopes: ['payments'] },
    apiKeys: { roles: ['owner'], keyScopes: [] }
} satisfies Record<string, MerchantAccess>;

/**
 * Route options for a merchant route: the `merchant` strategy, hapi's scope check (a staff member's scope is
 * their role, a key's its scopes; anything else is a 403), and the rule spelled out in Swagger's notes.
 */
export function merchantRoute(access: MerchantAccess, notes = ''): Pick<RouteOptions, 'auth' | 'notes'> {
    const who = `Roles: ${access.roles.join(', ')}. API key scopes: ${access.keyScopes.length ? access.keyScopes.join(', ') : 'none (staff token only)'}.`;
    return {
        auth: { strategy: 'merchant', access: { scope: [...access.roles, ...access.keyScopes] } },
        notes: notes ? `${who} ${notes}` : who
    };
}

/**
 * The `merchant` strategy: `Authorization: Bearer <staff token>` (the merchant audience) or
 * `Authorization: Bearer wxk_...` (an API key). Both are looked up on every request, so a disabled account or a
 * revoked key is a 401 at once. A buyer's token is a 401 here, as a staff token is on the buyers' routes.
 */
export const merchantAuthPlugin: Plugin<AppContext> = {
    name: 'wxshop-merchant-auth',
    register(server, { config, models }) {
        server.auth.scheme('merchant', () => ({
            async authenticate(request, h) {
                const match = /^Bearer\s+(\S+)$/i.exec(String(request.headers.authorization ?? ''));
                if (!match) {
                    throw Boom.unauthorized(null, 'Bearer');
                }

                const secret = match[1];
                let actor: MerchantActor | undefined;
                let scope: string[] = [];
                if (secret.startsWith(apiKeyPrefix)) {
                    const key = await authenticateApiKey(models, config.merchant.apiKeySecret, secret);
                    if (key) {
                        actor = { type: 'api_key', id: key.id };
                        scope = key.scopes.split(' ').filter(Boolean);
                    }
                }
                else {
                    const staffId = verifyStaffToken(config, secret);
                    const staff = staffId ? await models.Staff.findByPk(staffId) : null;
                    if (staff && !staff.disabled) {
                        actor = { type: 'staff', id: staff.id, username: staff.username, role: staff.role };
                        scope = [staff.role];
                    }
                }

                if (!actor) {
                    throw Boom.unauthorized('Invalid or revoked merchant credentials', 'Bearer');
                }

                return h.authenticated({ credentials: { merchant: actor, scope } as any });
            }
        }));
        server.auth.strategy('merchant', 'merchant');
    }
};
