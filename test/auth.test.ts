import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import * as Joi from 'joi';
import * as Jwt from 'jsonwebtoken';
import { QueryTypes } from 'sequelize';

import { issueToken } from '../lib/auth/tokens';
import * as Schemas from '../routes/schemas';
import { json, login, openDatabase, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

function base64url(value: object | string): string {
    return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

describe('JWT authentication', () => {

    let app: TestApp;
    let user: Awaited<ReturnType<typeof login>>;

    before(async () => {
        app = await startApp({ RATE_LIMIT_LOGIN: '100000' });
        // A test-only route behind the jwt strategy: it echoes the credentials the strategy built.
        app.server.route({ method: 'GET', path: '/__test/me', options: { auth: 'jwt' }, handler: (request) => request.auth.credentials });
        // The same behind response validation, as the app's own routes are: a 401 must survive it.
        app.server.route({
            method: 'GET',
            path: '/__test/me/checked',
            options: {
                auth: 'jwt',
                response: { status: { 200: Joi.object({ userId: Joi.number().integer(), openid: Joi.string() }), ...Schemas.errors(401) } }
            },
            handler: (request) => request.auth.credentials
        });
        user = await login(app);
    });

    after(() => app.stop());

    /** Claims as the app issues them, for the logged-in user. */
    const claims = (overrides: Record<string, unknown> = {}) => {
        const now = Math.floor(Date.now() / 1000);
        return { sub: String(user.userId), iss: app.config.jwt.issuer, aud: app.config.jwt.audience, iat: now, exp: now + 600, ...overrides };
    };

    const sign = (payload: object, secret: Jwt.Secret = app.config.jwt.secret, algorithm: Jwt.Algorithm = 'HS256') => Jwt.sign(payload, secret, { algorithm });

    const me = (headers: Record<string, string> = {}, url = '/__test/me') => json(app.server, { method: 'GET', url, headers });

    const expect401 = async (token: string | undefined, why: string) => {
        const res = await me(token === undefined ? {} : { authorization: `Bearer ${token}` });
        expect(res.statusCode, why).to.equal(401);
        expect(res.body.error, why).to.equal('Unauthorized');
        expect(res.body.userId, why).to.not.exist();
    };

    it('accepts the token from POST /users/login and gives the user id and openid', async () => {
        const res = await me(user.auth);
        expect(res.statusCode).to.equal(200);
        expect(res.body).to.equal({ userId: user.userId, openid: user.openid });
    });

    it('accepts a token it signs itself with the same claims (the control for the tests below)', async () => {
        expect((await me({ authorization: `Bearer ${sign(claims())}` })).statusCode).to.equal(200);
        expect((await me({ authorization: `Bearer ${issueToken(app.config.jwt, user.userId).token}` })).statusCode).to.equal(200);
    });

    it('takes the Bearer scheme in any case, and only the Bearer scheme', async () => {
        expect((await me({ authorization: `bearer ${user.token}` })).statusCode).to.equal(200);
        expect((await me({ authorization: `BEARER ${user.token}` })).statusCode).to.equal(200);
        expect((await me({ authorization: user.token })).statusCode).to.equal(401);
        expect((await me({ authorization: `Token ${user.token}` })).statusCode).to.equal(401);
        expect((await me({ authorization: `Bearer ${user.token} ${user.token}` })).statusCode).to.equal(401);
    });

    it('answers 401 without a token', async () => {
        await expect401(undefined, 'no header');
        expect((await me({ authorization: 'Bearer' })).statusCode).to.equal(401);
        expect((await me({ authorization: 'Bearer ' })).statusCode).to.equal(401);
        expect((await me({ authorization: 'Basic dXNlcjpwYXNz' })).statusCode).to.equal(401);
    });

    it('answers 401 for a malformed token', async () => {
        await expect401('not-a-jwt', 'garbage');
        await expect401('a.b.c', 'three garbage parts');
    });

    it('answers 401 for a tampered token', async () => {
        const [header, , signature] = user.token.split('.');
        const forged = base64url(claims({ sub: String(user.userId + 1000) }));
        await expect401(`${header}.${forged}.${signature}`, 'payload changed, signature kept');
        const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
        await expect401(`${user.token.split('.').slice(0, 2).join('.')}.${flipped}`, 'signature changed');
    });

    it('answers 401 for a token signed with another secret', async () => {
        await expect401(sign(claims(), Crypto.randomBytes(32).toString('hex')), 'other secret');
    });

    it('answers 401 for alg: none', async () => {
        const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.`;
        await expect401(unsigned, 'alg none, empty signature');
        await expect401(unsigned.slice(0, -1), 'alg none, no signature part');
        await expect401(`${base64url({ alg: 'NONE', typ: 'JWT' })}.${base64url(claims())}.`, 'alg NONE');
    });

    it('answers 401 for another algorithm, even with the right secret (HS256 is pinned)', async () => {
        await expect401(sign(claims(), app.config.jwt.secret, 'HS512'), 'HS512');
        await expect401(sign(claims(), app.config.jwt.secret, 'HS384'), 'HS384');
    });

    it('answers 401 for an RS256 token (HS/RS confusion)', async () => {
        const { privateKey, publicKey } = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        await expect401(sign(claims(), privateKey, 'RS256'), 'RS256 with a generated key');
        // The classic confusion: an HS256 token whose HMAC key is a public key the attacker knows.
        const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
        const header = base64url({ alg: 'HS256', typ: 'JWT' });
        const body = base64url(claims());
        const mac = Crypto.createHmac('sha256', pem).update(`${header}.${body}`).digest('base64url');
        await expect401(`${header}.${body}.${mac}`, 'HS256 keyed with a public key');
    });

    it('answers 401 for an expired token', async () => {
        const now = Math.floor(Date.now() / 1000);
        await expect401(sign(claims({ iat: now - 7300, exp: now - 100 })), 'expired 100 s ago');
        await expect401(sign(claims({ iat: now - 7300, exp: now - 1 })), 'expired 1 s ago');
    });

    it('answers 401 for a token that is not valid yet', async () => {
        await expect401(sign(claims({ nbf: Math.floor(Date.now() / 1000) + 600 })), 'nbf in 10 minutes');
    });

    it('answers 401 for a wrong or missing issuer', async () => {
        await expect401(sign(claims({ iss: 'someone-else' })), 'wrong iss');
        const { iss, ...noIssuer } = claims();
        expect(iss).to.exist();
        await expect401(sign(noIssuer), 'no iss');
    });

    it('answers 401 for a wrong or missing audience', async () => {
        await expect401(sign(claims({ aud: 'wxshop-admin' })), 'wrong aud');
        const { aud, ...noAudience } = claims();
        expect(aud).to.exist();
        await expect401(sign(noAudience), 'no aud');
    });

    it('answers 401 for a token without exp', async () => {
        const { exp, ...forever } = claims();
        expect(exp).to.exist();
        await expect401(sign(forever), 'no exp');
    });

    it('answers 401 for a subject that is not a user id', async () => {
        await expect401(sign(claims({ sub: undefined })), 'no sub');
        await expect401(sign(claims({ sub: 'admin' })), 'sub not a number');
        await expect401(sign(claims({ sub: '1.5' })), 'sub not an integer');
        await expect401(sign(claims({ sub: '99999999' })), 'sub of no user');
    });

    it('answers 401 for the token of a user that no longer exists', async () => {
        const doomed = await login(app);
        expect((await me(doomed.auth)).statusCode).to.equal(200);
        const db = openDatabase(app);
        try {
            await db.query('DELETE FROM users WHERE id = :id', { replacements: { id: doomed.userId }, type: QueryTypes.DELETE });
        }
        finally {
            await db.close();
        }

        await expect401(doomed.token, 'deleted user');
        expect((await me(user.auth)).statusCode).to.equal(200);
    });

    it('ignores a token in the query string or in a cookie', async () => {
        const query = await me({}, `/__test/me?token=${user.token}`);
        expect(query.statusCode).to.equal(401);
        const accessToken = await me({}, `/__test/me?access_token=${user.token}`);
        expect(accessToken.statusCode).to.equal(401);
        const cookie = await me({ cookie: `token=${user.token}` });
        expect(cookie.statusCode).to.equal(401);
    });

    it('answers 401, never a 500, for bad tokens on every route behind the jwt strategy', async () => {
        const { privateKey } = Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const now = Math.floor(Date.now() / 1000);
        const bad: Record<string, string | undefined> = {
            'no token': undefined,
            'garbage': 'Bearer nonsense',
            'three garbage parts': 'Bearer x.y.z',
            'other secret': `Bearer ${sign(claims(), Crypto.randomBytes(32).toString('hex'))}`,
            'alg none': `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.`,
            'RS256': `Bearer ${sign(claims(), privateKey, 'RS256')}`,
            'expired': `Bearer ${sign(claims({ iat: now - 7300, exp: now - 100 }))}`,
            'wrong audience': `Bearer ${sign(claims({ aud: 'other' }))}`
        };
        const routes = app.server.table().filter((route) => ((route.settings.auth as any)?.strategies ?? []).includes('jwt'));
        expect(routes.map((route) => route.path)).to.include(['/__test/me', '/__test/me/checked']);
        for (const route of routes) {
            const url = route.path.replace(/\{\w+\}/g, '1');
            for (const [why, authorization] of Object.entries(bad)) {
                const res = await json(app.server, { method: route.method, url, headers: authorization ? { authorization } : {}, payload: route.method === 'get' ? undefined : {} });
                expect(res.statusCode, `${route.method.toUpperCase()} ${route.path}: ${why}: ${JSON.stringify(res.body)}`).to.equal(401);
                expect(res.body.error).to.equal('Unauthorized');
            }
        }
    });

    it('leaves public routes public, and a bad token there does not matter', async () => {
        expect((await json(app.server, { method: 'GET', url: '/shops' })).statusCode).to.equal(200);
        expect((await json(app.server, { method: 'GET', url: '/shops', headers: { authorization: 'Bearer nonsense' } })).statusCode).to.equal(200);
    });
});
