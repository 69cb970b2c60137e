import * as Net from 'net';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { eventually, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

describe('logging', () => {

    let app: TestApp;
    before(async () => {
        app = await startApp();
    });
    after(() => app.stop());

    it('logs a client that sends something other than HTTP at debug level, not as an error of ours', async () => {
        const logger = (app.server as any).logger;
        const seen: Array<{ level: string; message: string }> = [];
        const original = { error: logger.error, debug: logger.debug };
        for (const level of ['error', 'debug'] as const) {
            logger[level] = function (this: unknown, ...args: unknown[]) {
                seen.push({ level, message: String(args[args.length - 1]) });
                return original[level].apply(this, args);
            };
        }

        try {
            const socket = Net.connect(app.server.info.port as number, '127.0.0.1');
            await new Promise((resolve) => socket.once('connect', resolve));
            socket.end('NOT HTTP AT ALL\r\n\r\n');
            await eventually(() => seen.length > 0, 'the client error was logged');
            expect(seen).to.equal([{ level: 'debug', message: 'client connection error' }]);
        }
        finally {
            Object.assign(logger, original);
        }
    });
});
