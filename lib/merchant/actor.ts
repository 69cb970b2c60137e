import type { Request } from '@hapi/hapi';

import type { StaffRole } from '../../models/merchant';

/** Who is acting on a merchant route: a staff member (by token) or an API key. */
export interface MerchantActor {
    type: 'staff' | 'api_key';
    id: number;
    /** staff only */
    username?: string;
    role?: StaffRole;
}

declare module '@hapi/hapi' {
    interface AuthCredentials {
        merchant?: MerchantActor;
    }
}

export function actorOf(request: Request): MerchantActor {
    const actor = request.auth.credentials.merchant;
    if (!actor) {
        throw new Error('actorOf() used on a route outside the merchant strategy');
    }

    return actor;
}
