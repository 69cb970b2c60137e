import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import * as Joi from 'joi';

import { loadConfig } from '../config';
import { startApp, testEnv } from './helpers';

const { expect } = Code;
const { describe, it } = exports.lab = Lab.script();

describe('response validation', () => {

    it('is on outside production and off in production by default', () => {
        expect(loadConfig(testEnv()).validateResponses).to.be.true();
        expect(loadConfig(testEnv({ RESPONSE_VALIDATION: 'false' })).validateResponses).to.be.false();
        expect(() => loadConfig(testEnv({ RESPONSE_VALIDATION: 'maybe' }))).to.throw(/RESPONSE_VALIDATION must be true or false/);
    });

    for (const [setting, expected] of [['true', 500], ['false', 200]] as const) {
        it(`${setting === 'true' ? 'refuses' : 'lets through'} a response that breaks its schema when RESPONSE_VALIDATION=${setting}`, async () => {
            const app = await startApp({ RESPONSE_VALIDATION: setting });
            try {
                app.server.route({
                    method: 'GET',
                    path: '/__test/broken',
                    options: { response: { status: { 200: Joi.object({ price: Joi.number().integer() }) } } },
                    handler: () => ({ price: 12.5 })
                });
                const res = await app.server.inject('/__test/broken');
                expect(res.statusCode).to.equal(expected);
            }
            finally {
                await app.stop();
            }
        });
    }
});
