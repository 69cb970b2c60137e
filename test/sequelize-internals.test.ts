import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import { DataTypes, Sequelize, Transaction, UniqueConstraintError } from 'sequelize';

import { createSequelize, ForgottenTransactionError } from '../lib/db';
import {
    checkInternals, installedVersion, interceptQueries, markPgConnectionBroken, queryLogger, SequelizeInternalsError, transactionConnection, writtenFor
} from '../lib/sequelize-internals';
import { insertRow, sqlDate } from '../lib/sql';
import { Shop } from '../models';
import { dialect, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** Settles with what `promise` settles with, or fails naming `what` if it is still pending after `ms` (a hang). */
async function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms (it hangs)`)), ms);
    });
    try {
        return await Promise.race([promise, hung]);
    }
    finally {
        clearTimeout(timer);
    }
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => {
        open = resolve;
    });
    return { opened, open };
}

/**
 * Each private field and each calling convention lib/sequelize-internals.ts relies on, checked against the installed
 * sequelize on this database. A failure names the field: fix the adapter before anything else.
 */
describe('lib/sequelize-internals: what wxshop relies on inside sequelize', () => {

    let app: TestApp;
    let sequelize: Sequelize;
    before(async () => {
        app = await startApp();
        sequelize = Shop.sequelize!;
    });
    after(() => app.stop());

    const shop = () => Shop.create({ name: `internals ${Crypto.randomBytes(4).toString('hex')}`, description: 'probe', logoUrl: null });

    it('is the sequelize version the adapter was written for, pinned exactly in package.json', () => {
        expect(installedVersion, `sequelize ${installedVersion} is installed but lib/sequelize-internals.ts was written for ${writtenFor}: re-check every internal in this file, then update writtenFor and the pin`).to.equal(writtenFor);
        expect(require('../package.json').dependencies.sequelize, 'package.json must pin sequelize to the exact version the adapter was written for').to.equal(writtenFor);
    });

    it('refuses at start an instance that lacks an internal, naming it', () => {
        expect(() => checkInternals(sequelize)).to.not.throw();
        const without = (overrides: object) => Object.assign(Object.create(sequelize), overrides) as Sequelize;
        expect(() => checkInternals(without({ connectionManager: { releaseConnection: () => undefined } }))).to.throw(SequelizeInternalsError, /sequelize\.connectionManager\.getConnection is not a function/);
        expect(() => checkInternals(without({ dialect: { Query: class {} } }))).to.throw(SequelizeInternalsError, /sequelize\.dialect\.Query\.prototype\.formatError/);
        expect(() => checkInternals(without({ options: {} }))).to.throw(SequelizeInternalsError, /sequelize\.options\.logging/);
    });

    it('transaction.connection is the driver connection the transaction runs on', async () => {
        const openid = `o${Crypto.randomBytes(12).toString('hex')}`;
        const seenOutside = await sequelize.transaction(async (transaction) => {
            const { connection, id } = transactionConnection(transaction);
            const driverClass = { postgres: () => require('pg').Client, mysql: () => require('mysql2').Connection, sqlite: () => require('sqlite3').Database }[dialect]();
            expect(connection, `transaction.connection is not a ${driverClass.name} of the driver`).to.be.an.instanceof(driverClass);
            expect(id, 'transaction.id').to.be.a.string().and.to.not.be.empty();

            // Written straight on that connection (lib/sql.ts), read back through sequelize in the same transaction.
            const now = sqlDate(sequelize, new Date());
            const userId = await insertRow(sequelize, 'INSERT INTO users (openid, created_at, updated_at) VALUES ($1, $2, $2)', [openid, now], transaction);
            const inside = await sequelize.query('SELECT id FROM users WHERE openid = :openid', { replacements: { openid }, type: 'SELECT', transaction });
            expect(inside.map((row: any) => Number(row.id)), 'a row written on transaction.connection is not seen by the transaction: it is another connection').to.equal([userId]);
            return sequelize.query('SELECT id FROM users WHERE openid = :openid', { replacements: { openid }, type: 'SELECT' });
        });
        expect(seenOutside, 'an uncommitted row written on transaction.connection was seen outside the transaction').to.equal([]);
        expect(() => transactionConnection({} as Transaction)).to.throw(SequelizeInternalsError, /transaction\.connection is not set/);
    });

    it("dialect.Query#formatError names a driver's error as sequelize does", async () => {
        const openid = `o${Crypto.randomBytes(12).toString('hex')}`;
        const sql = 'INSERT INTO users (openid, created_at, updated_at) VALUES ($1, $2, $2)';
        const insert = (transaction: Transaction) => insertRow(sequelize, sql, [openid, sqlDate(sequelize, new Date())], transaction);
        await sequelize.transaction(insert);
        const err = await expect(sequelize.transaction(insert)).to.reject();
        expect(err, `sequelize.dialect.Query#formatError no longer turns a duplicate key into UniqueConstraintError: ${err}`).to.be.an.instanceof(UniqueConstraintError);
        expect(String((err as any).sql), "the error keeps the statement").to.startWith(sql);
    });

    it('options.logging is the function sequelize logs its queries to', async () => {
        const quiet = createSequelize(app.config.database.url, { poolMax: 1 });
        const logged = createSequelize(app.config.database.url, { poolMax: 1, logging: true });
        try {
            expect(queryLogger(quiet), 'sequelize.options.logging with logging off').to.be.undefined();
            expect(queryLogger(logged), 'sequelize.options.logging with logging on').to.shallow.equal(console.log);
        }
        finally {
            await quiet.close();
            await logged.close();
        }
    });

    it("model writes, the query interface and a transaction's own statements all go through the instance's query", async () => {
        const fresh = createSequelize(app.config.database.url, { poolMax: 2 });
        const calls: Array<{ sql: string; inTransaction: boolean }> = [];
        interceptQueries(fresh, {
            query: (query) => (sql, options) => {
                calls.push({ sql: typeof sql === 'string' ? sql : sql.query, inTransaction: Boolean(options?.transaction) });
                return query(sql, options);
            },
            transaction: (transaction) => transaction
        });
        const Probe = fresh.define('ProbeShop', { name: DataTypes.STRING, description: DataTypes.STRING, logoUrl: DataTypes.STRING }, { tableName: 'shops', underscored: true });
        try {
            const name = `probe ${Crypto.randomBytes(4).toString('hex')}`;
            const row: any = await Probe.create({ name, description: 'probe', logoUrl: null });
            await Probe.update({ description: 'updated' }, { where: { id: row.id } });
            await fresh.getQueryInterface().bulkInsert('shops', [{ name: `${name} bulk`, description: 'probe', logo_url: null, created_at: new Date(), updated_at: new Date() }]);
            await fresh.transaction(async (transaction) => {
                await Probe.destroy({ where: { name }, transaction });
            });

            const seen = (what: string, pattern: RegExp, inTransaction: boolean) => expect(calls.some((call) => pattern.test(call.sql) && call.inTransaction === inTransaction),
                `${what} no longer goes through sequelize.query (${inTransaction ? 'with' : 'without'} options.transaction): the SQLite write queue in lib/db.ts would not see it`).to.be.true();
            seen('Model.create', /^INSERT INTO [`"]shops[`"]/, false);
            seen('Model.update', /^UPDATE [`"]shops[`"]/, false);
            seen('queryInterface.bulkInsert', /^INSERT INTO [`"]shops[`"]/, false);
            seen("a transaction's BEGIN", /^(BEGIN|START TRANSACTION)/i, true);
            seen('Model.destroy in a transaction', /^DELETE FROM [`"]shops[`"]/, true);
            seen("a transaction's COMMIT", /^COMMIT/i, true);
        }
        finally {
            await fresh.close();
        }
    });

    if (dialect === 'postgres') {
        it("a pg connection marked broken (pg's `_invalid`) is dropped by sequelize's pool, not reused", async () => {
            const manager = sequelize.connectionManager as any;
            const connection = await manager.getConnection();
            expect(manager.validate(connection), 'a healthy pg connection').to.be.true();
            markPgConnectionBroken(connection);
            expect(manager.validate(connection), 'sequelize.connectionManager.validate no longer reads the connection\'s `_invalid`').to.be.false();
            manager.releaseConnection(connection);
            const next = await manager.getConnection();
            manager.releaseConnection(next);
            expect(next, 'the pool handed the broken connection out again').to.not.shallow.equal(connection);
        });
    }

    if (dialect === 'sqlite') {
        it('SQLite: every transaction runs on one writer connection, kept open between them (connectionManager interception)', async () => {
            const first = await sequelize.transaction(async (transaction) => transactionConnection(transaction).connection);
            const second = await sequelize.transaction(async (transaction) => transactionConnection(transaction).connection);
            expect(second, 'sequelize acquired a new connection for the second transaction: connectionManager.getConnection({uuid}) is no longer how a transaction acquires').to.shallow.equal(first);
            expect(first.open, 'the writer connection was closed when the transaction released it').to.be.true();
        });
    }

    describe('a write without {transaction} inside a transaction callback', () => {

        const shopName = () => `forgotten ${Crypto.randomBytes(4).toString('hex')}`;

        if (dialect === 'sqlite') {
            it('fails at once naming the cause, rolls the transaction back, and leaves later writes working', async () => {
                const name = shopName();
                const { id: otherId } = await Shop.create({ name: shopName(), description: 'other', logoUrl: null });
                const err = await expect(settlesWithin(sequelize.transaction(async (transaction) => {
                    await Shop.create({ name, description: 'in the transaction', logoUrl: null }, { transaction });
                    await Shop.update({ description: 'forgot the transaction' }, { where: { id: otherId } });
                }), 5000, 'the forgotten transaction')).to.reject(ForgottenTransactionError);
                expect(err.message).to.contain('without { transaction }');
                expect(err.message).to.contain('UPDATE `shops` SET');
                expect(await Shop.count({ where: { name } }), 'the transaction was rolled back').to.equal(0);
                expect((await Shop.findByPk(otherId))!.description).to.equal('other');

                // The write queue is not stuck behind it.
                await settlesWithin(Shop.update({ description: 'after' }, { where: { id: otherId } }), 5000, 'a write after the refused one');
                expect((await Shop.findByPk(otherId))!.description).to.equal('after');
            });

            it('refuses a raw write statement and a second transaction opened from inside the callback', async () => {
                const raw = sequelize.transaction(() => sequelize.query("UPDATE shops SET description = 'x' WHERE id = -1"));
                await expect(settlesWithin(raw, 5000, 'a raw write')).to.reject(ForgottenTransactionError, /UPDATE shops SET/);
                const nested = sequelize.transaction(() => sequelize.transaction(async () => undefined));
                await expect(settlesWithin(nested, 5000, 'a nested transaction')).to.reject(ForgottenTransactionError, /sequelize\.transaction\(\) called/);
            });

            it('still runs a savepoint on the transaction it names, reads without {transaction}, and work the callback started that runs after the commit', async () => {
                const name = shopName();
                const afterCommit = gate();
                let deferred: Promise<unknown> | undefined;
                await settlesWithin(sequelize.transaction(async (transaction) => {
                    await sequelize.transaction({ transaction }, (savepoint) => Shop.create({ name, description: 'savepoint', logoUrl: null }, { transaction: savepoint }));
                    expect(await Shop.count({ where: { name } })).to.equal(0);       // a read on another connection: the commit is not in yet
                    deferred = afterCommit.opened.then(() => Shop.update({ description: 'after the commit' }, { where: { name } }));
                }), 5000, 'the transaction');
                afterCommit.open();
                await settlesWithin(deferred!, 5000, 'the deferred write');
                expect((await Shop.findOne({ where: { name } }))!.description).to.equal('after the commit');
            });

            it('does not refuse a write from outside the callback while the transaction runs: it waits its turn', async () => {
                const name = shopName();
                const { id } = await Shop.create({ name, description: 'before', logoUrl: null });
                const held = gate();
                const started = gate();
                const transaction = sequelize.transaction(async (t) => {
                    await Shop.update({ description: 'in the transaction' }, { where: { id }, transaction: t });
                    started.open();
                    await held.opened;
                });
                await started.opened;
                const outside = Shop.update({ description: 'outside' }, { where: { id } });
                held.open();
                await settlesWithin(Promise.all([transaction, outside]), 5000, 'the transaction and the write outside it');
                expect((await Shop.findByPk(id))!.description, 'the outside write ran after the transaction committed').to.equal('outside');
            });
        }
        else {
            it('runs on its own pooled connection on PostgreSQL and MariaDB: not refused, no hang', async () => {
                const { id } = await Shop.create({ name: shopName(), description: 'before', logoUrl: null });
                await settlesWithin(sequelize.transaction(async () => {
                    await Shop.update({ description: 'outside the transaction' }, { where: { id } });
                }), 5000, 'the write without {transaction}');
                expect((await Shop.findByPk(id))!.description).to.equal('outside the transaction');
            });
        }
    });
});
