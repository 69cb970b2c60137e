import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import { ForeignKeyConstraintError, Sequelize, UniqueConstraintError } from 'sequelize';

import { changeRows, insertRow, insertRows, selectRows, sqlDate } from '../lib/sql';
import { Goods, User } from '../models';
import { createShop, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** lib/sql.ts runs statements inside a transaction straight on the driver: the same answers and errors as sequelize. */
describe('lib/sql: raw statements in a transaction', () => {

    let app: TestApp;
    let sequelize: Sequelize;
    before(async () => {
        app = await startApp();
        sequelize = Goods.sequelize!;
    });
    after(() => app.stop());

    const newUser = (transaction: any, openid = `o${Crypto.randomBytes(12).toString('hex')}`) => {
        const now = sqlDate(sequelize, new Date());
        return insertRow(sequelize, 'INSERT INTO users (openid, created_at, updated_at) VALUES ($1, $2, $2)', [openid, now], transaction);
    };

    it('binds a placeholder used twice, counts changed rows and reads rows back', async () => {
        const { shopId, goodsIds } = await createShop([{ price: 100, stock: 5 }, { price: 200, stock: 1 }, { price: 300, stock: 2 }]);
        const changed = await sequelize.transaction((transaction) => changeRows(sequelize,
            'UPDATE goods SET stock = stock - $1 WHERE shop_id = $2 AND stock >= $1', [2, shopId], transaction));
        expect(changed).to.equal(2);

        const rows = await sequelize.transaction((transaction) => selectRows<{ id: number; stock: number }>(sequelize,
            'SELECT id, stock FROM goods WHERE shop_id = $1 ORDER BY id', [shopId], transaction));
        expect(rows.map((row) => [Number(row.id), Number(row.stock)])).to.equal([[goodsIds[0], 3], [goodsIds[1], 1], [goodsIds[2], 0]]);
    });

    it('answers the id of the row it inserted', async () => {
        const openid = `o${Crypto.randomBytes(12).toString('hex')}`;
        const id = await sequelize.transaction((transaction) => newUser(transaction, openid));
        expect((await User.findByPk(id))!.openid).to.equal(openid);
    });

    it("throws sequelize's UniqueConstraintError and rolls the whole transaction back", async () => {
        const openid = `o${Crypto.randomBytes(12).toString('hex')}`;
        const first = `o${Crypto.randomBytes(12).toString('hex')}`;
        await sequelize.transaction((transaction) => newUser(transaction, openid));

        const err = await expect(sequelize.transaction(async (transaction) => {
            await newUser(transaction, first);
            await newUser(transaction, openid);
        })).to.reject();
        expect(err).to.be.an.instanceof(UniqueConstraintError);
        expect(await User.count({ where: { openid: first } })).to.equal(0);
    });

    it("throws sequelize's ForeignKeyConstraintError for a row that points nowhere", async () => {
        const now = sqlDate(sequelize, new Date());
        const err = await expect(sequelize.transaction((transaction) => insertRows(sequelize,
            'INSERT INTO orders (user_id, out_trade_no, status, total_fee, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, $5)',
            [2_000_000_000, `T${Crypto.randomBytes(8).toString('hex')}`, 'unpaid', 1, now], transaction))).to.reject();
        expect(err).to.be.an.instanceof(ForeignKeyConstraintError);
    });

    it('keeps a text value with a NUL character from failing the statement', async () => {
        const openid = `o\0${Crypto.randomBytes(8).toString('hex')}`;
        const id = await sequelize.transaction((transaction) => newUser(transaction, openid));
        expect(await User.findByPk(id)).to.exist();
    });
});
