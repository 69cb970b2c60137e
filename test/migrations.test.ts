import * as ChildProcess from 'child_process';
import * as Fs from 'fs';
import * as Path from 'path';
import { promisify } from 'util';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import { QueryTypes, Sequelize } from 'sequelize';

import { createSequelize, dialectOf, migrator, prepareDatabase } from '../lib/db';
import { dialect, freshDatabaseUrl } from './helpers';

const { expect } = Code;
const { describe, it } = exports.lab = Lab.script();

const root = Path.join(__dirname, '..');
const migrationFiles = Fs.readdirSync(Path.join(root, 'migrations')).filter((file) => file.endsWith('.js')).sort();
const appTables = ['api_keys', 'goods', 'idempotency_keys', 'merchant_actions', 'order_events', 'order_items', 'orders', 'payment_anomalies', 'payments', 'refund_requests', 'refunds', 'shipments', 'shops', 'staff', 'users', 'webhook_attempts', 'webhook_deliveries', 'webhook_endpoints', 'webhook_events', 'wechat_access_tokens'];
/** Where migrators record what ran: sequelize-cli's table, and the one lib/db.ts's migrator makes today (see below). */
const bookkeeping = ['SequelizeMeta', 'SequelizeData', 'sequelize_meta', 'sequelize_data'];

async function allTables(sequelize: Sequelize): Promise<string[]> {
    const names = await sequelize.getQueryInterface().showAllTables();
    return names.map((table: any) => (typeof table === 'string' ? table : table.tableName)).sort();
}

async function tables(sequelize: Sequelize): Promise<string[]> {
    return (await allTables(sequelize)).filter((name) => !bookkeeping.includes(name));
}

async function count(sequelize: Sequelize, table: string): Promise<number> {
    const [row] = await sequelize.query<{ count: number | string }>(`SELECT COUNT(*) AS count FROM ${table}`, { type: QueryTypes.SELECT });
    return Number(row.count);
}

/** Runs sequelize-cli from the project root, as the README says, on a database URL. */
async function sequelizeCli(args: string[], databaseUrl: string): Promise<string> {
    const bin = require.resolve('sequelize-cli/lib/sequelize');
    const { stdout } = await promisify(ChildProcess.execFile)(process.execPath, [bin, ...args], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: 'development' },
        timeout: 60_000
    });
    return stdout;
}

/** config/database.js as sequelize-cli loads it, for one DATABASE_URL. */
function cliConfig(databaseUrl: string | undefined): any {
    const file = require.resolve('../config/database.js');
    const saved = process.env.DATABASE_URL;
    delete require.cache[file];
    try {
        if (databaseUrl === undefined) {
            delete process.env.DATABASE_URL;
        }
        else {
            process.env.DATABASE_URL = databaseUrl;
        }

        return require(file);
    }
    finally {
        delete require.cache[file];
        if (saved === undefined) {
            delete process.env.DATABASE_URL;
        }
        else {
            process.env.DATABASE_URL = saved;
        }
    }
}

describe('migrations', () => {

    it('go up, all the way down and up again on the current database', async () => {
        const sequelize = createSequelize(await freshDatabaseUrl());
        try {
            const up = await migrator(sequelize).up();
            expect(up.map((migration) => migration.name)).to.equal(migrationFiles);
            expect(await tables(sequelize)).to.equal(appTables);
            expect(await migrator(sequelize).pending()).to.equal([]);

            const down = await migrator(sequelize).down({ to: 0 });
            expect(down.map((migration) => migration.name)).to.equal([...migrationFiles].reverse());
            expect(await tables(sequelize)).to.equal([]);
            expect((await migrator(sequelize).executed()).length).to.equal(0);

            await migrator(sequelize).up();
            expect(await tables(sequelize)).to.equal(appTables);
            expect((await migrator(sequelize).executed()).map((migration) => migration.name)).to.equal(migrationFiles);
        }
        finally {
            await sequelize.close();
        }
    });

    it('create the schema the models need: unique openid, integer money, foreign keys', async () => {
        const sequelize = createSequelize(await freshDatabaseUrl());
        try {
            await migrator(sequelize).up();
            const queryInterface = sequelize.getQueryInterface();
            const users = await queryInterface.describeTable('users');
            expect(Object.keys(users).sort()).to.equal(['created_at', 'id', 'openid', 'unionid', 'updated_at']);
            expect(users.openid.allowNull).to.be.false();
            expect(users.unionid.allowNull).to.be.true();

            const goods = await queryInterface.describeTable('goods');
            expect(goods.price.type).to.match(/^INT/i);
            expect(goods.stock.type).to.match(/^INT/i);
            expect(goods.price.allowNull).to.be.false();

            const now = new Date();
            await queryInterface.bulkInsert('users', [{ openid: 'o-unique', created_at: now, updated_at: now }]);
            await expect(queryInterface.bulkInsert('users', [{ openid: 'o-unique', created_at: now, updated_at: now }])).to.reject();
            expect(await count(sequelize, 'users')).to.equal(1);

            if (dialect === 'sqlite') {
                await sequelize.query('PRAGMA foreign_keys = ON');
            }

            await expect(queryInterface.bulkInsert('goods', [{ shop_id: 999999, name: 'orphan', price: 1, stock: 1, created_at: now, updated_at: now }])).to.reject();
        }
        finally {
            await sequelize.close();
        }
    });

    it('seed demo shops and goods with integer prices, and unseed them', async () => {
        const sequelize = createSequelize(await freshDatabaseUrl());
        try {
            await prepareDatabase(sequelize, { migrate: true, seed: true });
            expect(await count(sequelize, 'shops')).to.equal(3);
            expect(await count(sequelize, 'goods')).to.equal(12);
            const goods = await sequelize.query<{ price: number; stock: number; name: string }>('SELECT name, price, stock FROM goods', { type: QueryTypes.SELECT });
            for (const item of goods) {
                expect(Number.isInteger(item.price) && item.price > 0, item.name).to.be.true();
                expect(Number.isInteger(item.stock) && item.stock >= 0, item.name).to.be.true();
            }

            // Preparing again neither re-runs migrations nor seeds twice.
            await prepareDatabase(sequelize, { migrate: true, seed: true });
            expect(await count(sequelize, 'shops')).to.equal(3);

            await migrator(sequelize, 'seeders').down({ to: 0 });
            expect(await count(sequelize, 'shops')).to.equal(0);
            expect(await count(sequelize, 'goods')).to.equal(0);
            await migrator(sequelize).down({ to: 0 });
            expect(await tables(sequelize)).to.equal([]);
        }
        finally {
            await sequelize.close();
        }
    });

    it('run with sequelize-cli from the README: db:migrate, db:seed:all, db:migrate:undo:all', async () => {
        let url = await freshDatabaseUrl();
        if (dialect === 'mysql') {
            url = url.replace(/^mysql:/, 'mariadb:');          // the cli config maps mariadb:// too
        }

        const sequelize = createSequelize(url);
        try {
            await sequelizeCli(['db:migrate'], url);
            expect(await tables(sequelize)).to.equal(appTables);
            expect(await allTables(sequelize)).to.include('SequelizeMeta');

            await sequelizeCli(['db:seed:all'], url);
            expect(await count(sequelize, 'shops')).to.equal(3);
            expect(await count(sequelize, 'goods')).to.equal(12);

            await sequelizeCli(['db:migrate:undo:all'], url);
            expect(await tables(sequelize)).to.equal([]);
        }
        finally {
            await sequelize.close();
        }
    });

    it('share their bookkeeping with sequelize-cli, both ways', async () => {
        const url = await freshDatabaseUrl();
        const sequelize = createSequelize(url);
        try {
            // Migrated in-process (as demo mode does), then the cli sees nothing pending and undoes it all.
            await migrator(sequelize).up();
            expect(await allTables(sequelize)).to.include('SequelizeMeta');
            expect(await sequelizeCli(['db:migrate:status'], url)).to.not.contain('down ');
            await sequelizeCli(['db:migrate'], url);
            await sequelizeCli(['db:migrate:undo:all'], url);
            expect(await tables(sequelize)).to.equal([]);

            // Migrated by the cli, then nothing is pending in-process.
            await sequelizeCli(['db:migrate'], url);
            expect(await migrator(sequelize).pending()).to.equal([]);
            await migrator(sequelize).down({ to: 0 });
            expect(await tables(sequelize)).to.equal([]);
        }
        finally {
            await sequelize.close();
        }
    });

    it('configure sequelize-cli from DATABASE_URL for every URL kind', () => {
        const postgres = cliConfig('postgres://wxshop:pw@db.internal:5432/wxshop');
        expect(postgres.development).to.equal({ url: 'postgres://wxshop:pw@db.internal:5432/wxshop', dialect: 'postgres' });
        expect(postgres.test).to.equal(postgres.development);
        expect(postgres.production).to.equal(postgres.development);

        expect(cliConfig('postgresql://wxshop@db/wxshop').development).to.equal({ url: 'postgresql://wxshop@db/wxshop', dialect: 'postgres' });
        expect(cliConfig('mysql://root@127.0.0.1:3306/wxshop').development).to.equal({ url: 'mysql://root@127.0.0.1:3306/wxshop', dialect: 'mysql' });
        expect(cliConfig('mariadb://root@127.0.0.1:3306/wxshop').development).to.equal({ url: 'mysql://root@127.0.0.1:3306/wxshop', dialect: 'mysql' });
        expect(cliConfig('sqlite:/var/lib/wxshop/db.sqlite').development).to.equal({ dialect: 'sqlite', storage: '/var/lib/wxshop/db.sqlite' });
        expect(cliConfig(undefined).development).to.equal({ dialect: 'sqlite', storage: Path.join(root, 'data', 'wxshop.sqlite') });
        expect(cliConfig('').development).to.equal({ dialect: 'sqlite', storage: Path.join(root, 'data', 'wxshop.sqlite') });

        // Each entry names a dialect the server's own URL parsing agrees with.
        for (const url of ['postgres://a@b/c', 'mysql://a@b/c', 'mariadb://a@b/c', 'sqlite:/tmp/x.sqlite']) {
            expect(cliConfig(url).development.dialect).to.equal(dialectOf(url));
        }
    });
});
