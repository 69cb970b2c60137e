import * as Fs from 'fs';
import * as Path from 'path';

import * as Hapi from '@hapi/hapi';
import * as Joi from 'joi';

import { Config, ConfigError, loadConfig } from './config';
import { createSequelize, prepareDatabase } from './lib/db';
import { projectRoot } from './lib/paths';
import type { AppContext } from './lib/context';
import { JobRunner } from './lib/jobs/runner';
import { LoginClient } from './lib/wechat/login';
import { PayV2Client } from './lib/wechatpay/client';
import { merchantTlsAgent } from './lib/wechatpay/refund';
import { initModels } from './models';
import { authPlugin } from './plugins/auth';
import { docsPlugin } from './plugins/docs';
import { errorsPlugin, failAction } from './plugins/errors';
import { loggingPlugin } from './plugins/logging';
import { rateLimitPlugin } from './plugins/rate-limit';
import { sandboxPlugin, sandboxPrefix } from './plugins/sandbox';
import { goodsRoutes } from './routes/goods';
import { healthRoutes } from './routes/health';
import { orderRoutes } from './routes/orders';
import { paymentRoutes } from './routes/payments';
import { refundNotifyRoutes } from './routes/refund-notify';
import { shopRoutes } from './routes/shops';
import { userRoutes } from './routes/users';

declare module '@hapi/hapi' {
    interface ServerApplicationState {
        context: AppContext;
    }
}

const version: string = JSON.parse(Fs.readFileSync(Path.join(projectRoot, 'package.json'), 'utf8')).version;

/**
 * Builds the server from a config: database, models, WeChat clients, plugins and routes. Migrations are applied
 * in demo and sandbox mode; production runs them with sequelize-cli as a deploy step.
 */
export async function createServer(config: Config): Promise<Hapi.Server> {
    const server = Hapi.server({
        host: config.host,
        port: config.port,
        routes: {
            validate: { failAction },
            response: { sample: config.validateResponses ? 100 : 0 },
            payload: { maxBytes: 64 * 1024 }
        },
        router: { stripTrailingSlash: true }
    });

    server.validator(Joi);

    const sequelize = createSequelize(config.database.url, { logging: config.database.logging, poolMax: config.database.poolMax });
    const models = initModels(sequelize);
    await prepareDatabase(sequelize, { migrate: config.sandbox, seed: config.demo });

    const ownSandbox = () => `${server.info.uri}${sandboxPrefix}`;
    const pay = new PayV2Client({
        appId: config.wechat.appId,
        mchId: config.pay.mchId,
        apiKey: config.pay.apiKey,
        signType: config.pay.signType,
        baseUrl: config.pay.apiBase ? () => config.pay.apiBase! : ownSandbox,
        timeoutMs: config.pay.timeoutMs,
        httpsAgent: merchantTlsAgent(config.refunds.clientCertificate, config.refunds.apiCa)
    });
    const merchant = { appId: config.wechat.appId, mchId: config.pay.mchId };
    const context: AppContext = {
        config,
        sequelize,
        models,
        login: new LoginClient({
            appId: config.wechat.appId,
            secret: config.wechat.secret,
            baseUrl: config.wechat.apiBase ? () => config.wechat.apiBase! : ownSandbox,
            timeoutMs: config.wechat.timeoutMs
        }),
        pay,
        merchant,
        notifyUrl: () => config.pay.notifyUrl ?? `${server.info.uri}/orders/pay/notify`,
        refunds: {
            sequelize,
            pay,
            merchant,
            apiKey: config.pay.apiKey,
            config: config.refunds,
            notifyUrl: () => config.refunds.notifyUrl ?? `${server.info.uri}/orders/refund/notify`,
            log: (message) => server.log(['warn', 'refunds'], message)
        }
    };

    server.app.context = context;
    await server.register({ plugin: loggingPlugin, options: { level: config.logLevel } });
    await server.register(errorsPlugin);
    await server.register({ plugin: authPlugin, options: { jwt: config.jwt, sequelize } });
    await server.register({ plugin: rateLimitPlugin, options: { config } });
    await server.register({ plugin: docsPlugin, options: { version } });

    if (config.sandbox) {
        await server.register({ plugin: sandboxPlugin, options: { config } });
    }

    for (const routes of [healthRoutes, userRoutes, shopRoutes, goodsRoutes, orderRoutes, paymentRoutes, refundNotifyRoutes]) {
        await server.register({ plugin: routes, options: context });
    }

    if (config.jobs.enabled) {
        const jobs = new JobRunner(context, config.jobs.intervalMs, (message) => server.log(['warn', 'jobs'], message));
        server.ext('onPostStart', () => jobs.start());
        server.ext('onPreStop', () => jobs.stop());
    }

    server.ext('onPostStop', () => sequelize.close());
    return server;
}

async function main(): Promise<void> {
    let config: Config;
    try {
        config = loadConfig();
    }
    catch (err) {
        if (err instanceof ConfigError) {
            console.error(err.message);
            process.exit(1);
        }

        throw err;
    }

    const server = await createServer(config);
    await server.start();

    const base = server.info.uri;
    server.logger.info(`wxshop listening on ${base}`);
    console.log(`wxshop ${version} listening on ${base}`);
    console.log(`  Swagger:  ${base}/documentation`);
    if (config.sandbox) {
        console.log(`  WeChat simulator: ${base}${sandboxPrefix} (try: curl -X POST ${base}${sandboxPrefix}/__sim/login-codes)`);
    }

    if (config.demo) {
        console.log(`  demo mode: SQLite at ${config.database.url.replace(/^sqlite:/, '')}, generated credentials in ${config.dataDir}`);
        console.log(`  throwaway CA and merchant API certificate (refunds, mutual TLS): ${config.refunds.certificateSource}`);
    }

    const shutdown = async (signal: string) => {
        server.logger.info(`${signal}: draining in-flight requests`);
        await server.stop({ timeout: 10_000 });
        process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
}

if (require.main === module) {
    main().catch((err) => {
        console.error(err);
        process.exit(1);
    });
}
