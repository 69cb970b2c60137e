import type { Sequelize } from 'sequelize';

import type { Config } from '../../config';
import { deliverDue } from './deliver';
import { dispatchEvents } from './dispatch';

/** One pass of the webhook jobs: outbox events into deliveries, then the deliveries that are due. */
export async function runWebhookJobs(context: { sequelize: Sequelize; config: Config }, now: Date, log: (message: string) => void, batch = 100): Promise<void> {
    await dispatchEvents(context.sequelize, context.config.webhooks, now, batch);
    await deliverDue(context.sequelize, context.config.webhooks, now, batch, log);
}
