import * as Fs from 'fs';
import * as Path from 'path';

import * as Hapi from '@hapi/hapi';
import * as Joi from 'joi';

import { Config, ConfigError, loadConfig } from './config';
import { demoV3Dir } from './config/demo-v3';
import type { AppContext } from './lib/context';
import { describeDatabase, maskCredentials } from './lib/masked-url';
import { AdjustableClock } from './lib/clock';
import { createSequelize, prepareDatabase } from './lib/db';
import { projectRoot } from './lib/paths';
import { firstLine, StartupError } from './lib/startup-error';
import { JobRunner } from './lib/jobs/runner';
import { pollShipments, uploadShipments } from './lib/jobs/shipments';
import { createOpsServices } from './lib/shipping/services';
import { DemoStaff, ensureDemoStaff } from './lib/merchant/demo';
import { LoginClient } from './lib/wechat/login';
import { PayV2Client } from './lib/wechatpay/client';
import { merchantTlsAgent } from './lib/wechatpay/refund';
import { payV3SetupFromConfig } from './lib/wechatpay/v3/from-config';
import { initModels } from './models';
import { authPlugin } from './plugins/auth';
import { docsPlugin } from './plugins/docs';
import { errorsPlugin, failAction } from './plugins/errors';
import { loggingPlugin } from './plugins/logging';
import { merchantAuthPlugin } from './plugins/merchant-auth';
import { rateLimitPlugin } from './plugins/rate-limit';
import { requestTimeoutListener, requestTimeoutPlugin } from './plugins/request-timeout';
import { sandboxPlugin, sandboxPrefix } from './plugins/sandbox';
import { goodsRoutes } from './routes/goods';
import { healthRoutes } from './routes/health';
import { merchantAuthRoutes } from './routes/merchant-auth';
import { merchantCatalogueRoutes } from './routes/merchant-catalogue';
import { merchantOrderRoutes } from './routes/merchant-orders';
import { merchantWebhookRoutes } from './routes/merchant-webhooks';
import { merchantShipmentRoutes } from './routes/merchant-shipments';
import { merchantRefundRoutes } from './routes/merchant-refunds';
import { orderRoutes } from './routes/orders';
import { paymentRoutes } from './routes/payments';
import { refundNotifyRoutes } from './routes/refund-notify';
import { refundRequestRoutes } from './routes/refund-requests';
import { refundNotifyV3Routes } from './routes/refund-notify-v3';
import { shopRoutes } from './routes/shops';
import { userRoutes } from './routes/users';
import { wechatPushRoutes } from './routes/wechat-push';

const version: string = JSON.parse(Fs.readFileSync(Path.join(projectRoot, 'package.json'), 'utf8')).version;

/** Builds the server from a config (see buildApp). */
export async function createServer(config: Config): Promise<Hapi.Server> {
    return (await buildApp(config)).server;
}

/**
 * Builds the server from a config: database, models, WeChat clients, plugins and routes. Migrations are applied
 * in demo and sandbox mode; production runs them with sequelize-cli as a deploy step. Routes get the context as
 * their plugin options; it is returned beside the server for the tests and scripts that drive jobs directly.
 */
export async function buildApp(config: Config): Promise<{ server: Hapi.Server; context: AppContext }> {
    const server = Hapi.server({
        host: config.host,
        port: config.port,
        listener: requestTimeoutListener(config.http.requestTimeoutMs),
        routes: {
            validate: { failAction },
            response: { sample: config.validateResponses ? 100 : 0 },
            // hapi's own payload timeout answers only once the body it timed out on has arrived (it drains the
            // request first): the listener's requestTimeout (plugins/request-timeout.ts) answers a body that never completes.
            payload: { maxBytes: 64 * 1024, timeout: false },
            security: {
                hsts: config.http.hsts ? { maxAge: 15552000, includeSubDomains: false } : false,
                xframe: 'deny',
                noSniff: true,
                noOpen: true,
                referrer: 'no-referrer'
            }
        },
        router: { stripTrailingSlash: true }
    });

    server.validator(Joi);

    let sequelize;
    let models;
    try {
        sequelize = createSequelize(config.database.url, { logging: config.database.logging, poolMax: config.database.poolMax });
        models = initModels(sequelize);
        await prepareDatabase(sequelize, { migrate: config.sandbox, seed: config.demo });
    }
    catch (err) {
        await sequelize?.close().catch(() => {});
        const reason = firstLine(err).split(config.database.url).join(maskCredentials(config.database.url));
        throw new StartupError('DATABASE_URL', `${describeDatabase(config.database.url)} cannot be used (${reason})`,
            'check that the database runs there and that the user, password and database name are right');
    }

    if (config.demo) {
        server.app.demoStaff = await ensureDemoStaff(config.dataDir, models);
    }

    const ownSandbox = () => `${server.info.uri}${sandboxPrefix}`;
    const clock = new AdjustableClock();
    const pay = new PayV2Client({
        appId: config.wechat.appId,
        mchId: config.pay.mchId,
        apiKey: config.pay.apiKey,
        signType: config.pay.signType,
        baseUrl: config.pay.apiBase ? () => config.pay.apiBase! : ownSandbox,
        timeoutMs: config.pay.timeoutMs,
        httpsAgent: merchantTlsAgent(config.refunds.clientCertificate, config.refunds.apiCa)
    });
    const v3 = payV3SetupFromConfig(config, config.pay.apiBase ? () => config.pay.apiBase! : ownSandbox, () => clock.now(), () => server.info.uri);
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
        v3,
        payApiVersion: config.v3.apiVersion,
        merchant,
        notifyUrl: () => config.pay.notifyUrl ?? `${server.info.uri}/orders/pay/notify`,
        refunds: {
            sequelize,
            pay,
            v3,
            merchant,
            apiKey: config.pay.apiKey,
            clock,
            config: config.refunds,
            notifyUrl: () => config.refunds.notifyUrl ?? `${server.info.uri}/orders/refund/notify`,
            log: (message) => server.log(['warn', 'refunds'], message)
        },
        clock,
        ops: createOpsServices(config, config.wechat.apiBase ? () => config.wechat.apiBase! : ownSandbox, (level, message) => server.logger[level](message))
    };

    await server.register({ plugin: loggingPlugin, options: { level: config.logLevel } });
    await server.register(errorsPlugin);
    await server.register(requestTimeoutPlugin);
    await server.register({ plugin: authPlugin, options: { jwt: config.jwt, sequelize } });
    await server.register({ plugin: merchantAuthPlugin, options: context });
    await server.register({ plugin: rateLimitPlugin, options: { config } });
    await server.register({ plugin: docsPlugin, options: { version } });

    if (config.sandbox) {
        await server.register({ plugin: sandboxPlugin, options: { config, clock } });
    }

    for (const routes of [healthRoutes, userRoutes, shopRoutes, goodsRoutes, orderRoutes, paymentRoutes, refundNotifyRoutes, merchantAuthRoutes, merchantCatalogueRoutes, merchantOrderRoutes, merchantRefundRoutes, refundRequestRoutes, merchantWebhookRoutes, merchantShipmentRoutes, wechatPushRoutes, refundNotifyV3Routes]) {
        await server.register({ plugin: routes, options: context });
    }

    if (config.jobs.enabled) {
        const jobs = new JobRunner(context, config.jobs.intervalMs, (message) => server.log(['warn', 'jobs'], message),
            [(now) => uploadShipments(context, now), (now) => pollShipments(context, now)]);
        server.ext('onPostStart', () => jobs.start());
        server.ext('onPreStop', () => jobs.stop());
    }

    // Platform-certificate mode: the certificates are kept fresh while the server runs.
    server.ext('onPostStart', () => v3?.client.certificates?.start());
    server.ext('onPreStop', () => v3?.client.certificates?.stop());
    server.ext('onPostStop', () => sequelize.close());
    return { server, context };
}

/** What stops a start, said in a line (a bad variable, a database or Redis that does not answer, a port in use). */
function startFailure(err: unknown, config?: Config): string | undefined {
    if (err instanceof ConfigError || err instanceof StartupError) {
        return err.message;
    }

    const code = (err as NodeJS.ErrnoException)?.code;
    if (config && (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')) {
        const problem = { EADDRINUSE: 'is already in use', EACCES: 'is not allowed for this user', EADDRNOTAVAIL: 'is not an address of this machine' }[code];
        return new StartupError(code === 'EADDRNOTAVAIL' ? 'HOST' : 'PORT', `${config.host}:${config.port} ${problem}`,
            'stop what listens there, or set PORT (and HOST) to a free port of this machine').message;
    }

    return undefined;
}

/** What a start prints: where it listens, Swagger, the simulator, and in demo mode its database (credentials masked). */
export function startBanner(config: Config, base: string, demoStaff: DemoStaff[] = []): string[] {
    // The demo staff logins are the one secret a banner shows (demo mode only), written with the demo line at once.
    const staff = demoStaff.map((login) => `\n  merchant login (${login.role}): ${login.username} / ${login.password}   (POST ${base}/merchant/login)`);
    return [
        `wxshop ${version} listening on ${base}`,
        `  Swagger:  ${base}/documentation`,
        ...config.sandbox ? [`  WeChat simulator: ${base}${sandboxPrefix} (try: curl -X POST ${base}${sandboxPrefix}/__sim/login-codes)`] : [],
        ...config.demo ? [
            `  demo mode: ${describeDatabase(config.database.url)}, generated credentials in ${config.dataDir}${staff.join('')}`,
            `  throwaway CA and merchant API certificate (refunds, mutual TLS): ${config.refunds.certificateSource}`,
            ...config.v3.material ? [`  WeChat Pay API ${config.v3.apiVersion} for new payments (v3 ${config.v3.material.publicKey ? 'public-key mode' : 'platform certificates'}; WECHATPAY_API_VERSION=v3 generates throwaway v3 keys in ${demoV3Dir(config.dataDir)})`] : []
        ] : []
    ];
}

async function main(): Promise<void> {
    let config: Config | undefined;
    let server: Hapi.Server;
    try {
        config = loadConfig();
        server = await createServer(config);
        await server.start();
    }
    catch (err) {
        const message = startFailure(err, config);
        if (message === undefined) {
            throw err;
        }

        console.error(message);
        process.exit(1);
    }

    server.logger.info(`wxshop listening on ${server.info.uri}`);
    for (const line of startBanner(config, server.info.uri, server.app.demoStaff)) {
        console.log(line);
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
