import * as Crypto from 'crypto';

import { Op, Sequelize, WhereOptions } from 'sequelize';

import type { WebhookConfig } from '../../config';
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../../models';
import { MerchantAction } from '../../models/merchant';
import { checkUrlSyntax, resolveCheckedAddress, WebhookUrlError } from './address';
import { retryDelayMs } from './backoff';
import { postTo, PostResult } from './post';
import { signingSecrets } from './secrets';
import { signatureHeader, signatureHeaderValue } from './signature';

/** How long a claimed delivery is this instance's: well past one attempt's timeout, so two never overlap. */
function leaseMs(config: WebhookConfig): number {
    return config.attemptTimeoutMs + 60_000;
}

function unclaimed(now: Date): WhereOptions<WebhookDelivery> {
    return { [Op.or]: [{ claimedUntil: null }, { claimedUntil: { [Op.lt]: now } }] };
}

/**
 * Attempts the deliveries that are due, of enabled endpoints: claimed together with one conditional UPDATE under a
 * token of this pass (of several instances exactly one gets each row; a crashed instance's claim lapses), then
 * attempted `concurrency` at a time. Resolves to the number attempted.
 */
export async function deliverDue(sequelize: Sequelize, config: WebhookConfig, now: Date, batch: number, log: (message: string) => void): Promise<number> {
    const due = await WebhookDelivery.findAll({
        where: { [Op.and]: [{ status: 'pending', nextAttemptAt: { [Op.lte]: now } }, unclaimed(now)] },
        include: [{ model: WebhookEndpoint, as: 'endpoint', where: { enabled: true }, attributes: [] }],
        attributes: ['id'],
        order: [['nextAttemptAt', 'ASC']],
        limit: batch
    });
    if (!due.length) {
        return 0;
    }

    const token = Crypto.randomBytes(12).toString('hex');
    await WebhookDelivery.update({ claimedUntil: new Date(now.getTime() + leaseMs(config)), claimToken: token }, {
        where: { [Op.and]: [{ id: due.map((row) => row.id), status: 'pending' }, unclaimed(now)] }
    });
    const claimed = await WebhookDelivery.findAll({
        where: { claimToken: token },
        include: [{ model: WebhookEvent, as: 'event' }, { model: WebhookEndpoint, as: 'endpoint' }]
    }) as ClaimedDelivery[];

    let next = 0;
    const worker = async () => {
        while (next < claimed.length) {
            await attemptDelivery(sequelize, config, claimed[next++], token, now, log);
        }
    };
    await Promise.all(Array.from({ length: Math.min(config.concurrency, claimed.length) }, worker));
    return claimed.length;
}

type ClaimedDelivery = WebhookDelivery & { event: WebhookEvent; endpoint: WebhookEndpoint };

/** One signed POST of a claimed delivery, logged, and what follows from it (success, the next try, giving up). */
async function attemptDelivery(sequelize: Sequelize, config: WebhookConfig, delivery: ClaimedDelivery, token: string, now: Date, log: (message: string) => void): Promise<void> {
    const { event, endpoint } = delivery;
    const deliveryId = delivery.id;
    const result = await send(config, endpoint, event, now);
    const succeeded = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const attempts = delivery.attempts + 1;
    const givingUp = !succeeded && now.getTime() >= delivery.giveUpAt.getTime();
    const disable = !succeeded && endpoint.failingSince !== null && now.getTime() - endpoint.failingSince.getTime() >= config.disableAfterSeconds * 1000;

    await sequelize.transaction(async (transaction) => {
        const [mine] = await WebhookDelivery.update({
            status: succeeded ? 'succeeded' : givingUp ? 'failed' : 'pending',
            attempts,
            nextAttemptAt: succeeded || givingUp ? null : new Date(now.getTime() + retryDelayMs(attempts)),
            lastAttemptAt: now,
            lastStatusCode: result.statusCode,
            succeededAt: succeeded ? now : null,
            claimedUntil: null,
            claimToken: null
        }, { where: { id: deliveryId, claimToken: token }, transaction });
        if (mine !== 1) {
            return;     // deleted with its endpoint meanwhile: nothing left to log it on
        }

        await WebhookAttempt.create({
            deliveryId,
            attemptedAt: now,
            succeeded,
            statusCode: result.statusCode,
            latencyMs: result.latencyMs,
            error: result.error,
            responseSnippet: result.snippet
        }, { transaction });

        if (succeeded) {
            await WebhookEndpoint.update({ failingSince: null }, { where: { id: endpoint.id, failingSince: { [Op.ne]: null } }, transaction });
        }
        else if (endpoint.failingSince === null) {
            await WebhookEndpoint.update({ failingSince: now }, { where: { id: endpoint.id, failingSince: null }, transaction });
        }
        else if (disable) {
            const reason = `every delivery failed since ${endpoint.failingSince.toISOString()}`;
            const [disabled] = await WebhookEndpoint.update({ enabled: false, disabledReason: reason }, { where: { id: endpoint.id, enabled: true }, transaction });
            if (disabled) {
                await MerchantAction.create({
                    actorType: 'system',
                    actorId: 0,
                    action: 'webhook.disable',
                    targetType: 'webhook',
                    targetId: endpoint.id,
                    details: JSON.stringify({ url: endpoint.url, reason, lastError: result.error, lastStatusCode: result.statusCode })
                }, { transaction });
                log(`webhook endpoint ${endpoint.id} (${endpoint.url}) disabled: ${reason}; its owner can re-enable it with PATCH /merchant/webhooks/${endpoint.id} {"enabled": true}`);
            }
        }
    });

    if (givingUp) {
        log(`webhook delivery ${deliveryId} of ${event.publicId} to endpoint ${endpoint.id} failed for good after ${attempts} attempts`);
    }
}

async function send(config: WebhookConfig, endpoint: WebhookEndpoint, event: WebhookEvent, now: Date): Promise<PostResult> {
    const body = event.payload ?? '';
    try {
        const url = checkUrlSyntax(endpoint.url, config);
        const address = await resolveCheckedAddress(url, config);
        const timestamp = Math.floor(Date.now() / 1000);
        return await postTo(url, address, {
            'content-type': 'application/json',
            'user-agent': 'wxshop-webhooks/1',
            'wxshop-event-id': event.publicId,
            'wxshop-event-type': event.type,
            [signatureHeader.toLowerCase()]: signatureHeaderValue(signingSecrets(config.secretKey, endpoint, now), timestamp, body)
        }, body, config.attemptTimeoutMs);
    }
    catch (err) {
        if (err instanceof WebhookUrlError) {
            return { statusCode: null, snippet: null, error: `refused: ${err.message}`.slice(0, 255), latencyMs: 0 };
        }

        throw err;
    }
}
