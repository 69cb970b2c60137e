import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { json, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('health', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
    });
    after(() => app.stop());

    it('GET /health answers ok', async () => {
        const res = await json(app.server, { method: 'GET', url: '/health' });
        expect(res.statusCode).to.equal(200);
        expect(res.body).to.equal({ status: 'ok' });
    });

    it('GET /ready checks the database', async () => {
        const res = await json(app.server, { method: 'GET', url: '/ready' });
        expect(res.statusCode).to.equal(200);
        expect(res.body).to.equal({ status: 'ready' });
    });
});
