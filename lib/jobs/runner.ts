import type { Config } from '../../config';
import type { PaymentContext } from '../orders/payments';
import { finishClosings } from './closing';
import type { RefundContext } from '../refunds/context';
import { runRefundJobs } from '../refunds/jobs';
import { runWebhookJobs } from '../webhooks/job';
import { expireOrders } from './expiry';
import { purgeIdempotencyKeys } from './idempotency';
import { reconcilePayments } from './reconcile';

/**
 * Runs the background jobs every `intervalMs` on every instance; each job claims its rows, so instances never
 * do the same work twice. One pass at a time per instance.
 */
export class JobRunner {
    private timer: NodeJS.Timeout | undefined;
    private running: Promise<void> | undefined;

    constructor(private readonly context: PaymentContext & { config: Config; refunds?: RefundContext }, private readonly intervalMs: number, private readonly log: (message: string) => void,
        private readonly moreJobs: Array<(now: Date) => Promise<unknown>> = []) {}

    start(): void {
        this.timer = setInterval(() => {
            this.running ??= this.runOnce().finally(() => {
                this.running = undefined;
            });
        }, this.intervalMs);
    }

    async stop(): Promise<void> {
        clearInterval(this.timer);
        await this.running;
    }

    async runOnce(now = new Date(this.context.clock.now())): Promise<void> {
        try {
            await expireOrders(this.context, now, 50, this.log);
            await finishClosings(this.context, now, 50, this.log);
            await reconcilePayments(this.context, now, 50, this.log);
            await purgeIdempotencyKeys(now);
            if (this.context.refunds) {
                await runRefundJobs(this.context.refunds, now);
            }
            await runWebhookJobs(this.context, now, this.log);
            for (const job of this.moreJobs) {
                await job(now);
            }
        }
        catch (err) {
            this.log(`background jobs failed, next pass retries: ${(err as Error).message}`);
        }
    }
}
