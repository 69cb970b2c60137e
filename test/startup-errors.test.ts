import * as ChildProcess from 'child_process';
import * as Fs from 'fs';
import * as Net from 'net';
import * as Os from 'os';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

const { expect } = Code;
const { describe, it } = exports.lab = Lab.script();

const root = Path.join(__dirname, '..');

/** `npm start` (without npm in between) in demo mode with `env` on top, until it exits. */
function start(env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const base: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'test', DATA_DIR: Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-startup-')), PORT: '0', JOBS: 'false', LOG_LEVEL: 'info' };
    for (const name of ['DATABASE_URL', 'JWT_SECRET', 'SANDBOX', 'REDIS_URL', 'WECHAT_APPID', 'WECHAT_SECRET', 'WECHATPAY_MCHID', 'WECHATPAY_KEY', 'WECHAT_API_BASE', 'WECHATPAY_API_BASE']) {
        delete base[name];
    }

    return new Promise((resolve, reject) => {
        const child = ChildProcess.spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'app.ts'], { cwd: root, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`still running after 50 s:\n${stdout}\n${stderr}`));
        }, 50_000);
        child.once('exit', (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
    });
}

/** A failed start: a non-zero exit and exactly one line on stderr, naming the variable, without a stack. */
function expectOneLine(run: { status: number | null; stdout: string; stderr: string }, variable: string): string {
    expect(run.status, run.stderr).to.equal(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines, run.stderr).to.have.length(1);
    expect(lines[0]).to.startWith(`${variable}: `);
    expect(run.stderr).to.not.match(/^\s+at /m);
    expect(run.stdout).to.not.contain('listening');
    return lines[0];
}

describe('a start that cannot work says why in one line', () => {

    it('REDIS_URL pointing at nothing', async () => {
        const line = expectOneLine(await start({ REDIS_URL: 'redis://:hunter2-redis@127.0.0.1:9' }), 'REDIS_URL');
        expect(line).to.contain('no Redis answers at redis://***@127.0.0.1:9');
        expect(line).to.contain('unset REDIS_URL');
        expect(line).to.not.contain('hunter2-redis');
    });

    it('a bad DATABASE_URL, with its password masked', async () => {
        const line = expectOneLine(await start({ DATABASE_URL: 'postgres://shop:hunter2-db@127.0.0.1:9/wxshop' }), 'DATABASE_URL');
        expect(line).to.contain('PostgreSQL at postgres://***@127.0.0.1:9/wxshop cannot be used');
        expect(line).to.contain('ECONNREFUSED');
        expect(line).to.not.contain('hunter2-db');
    });

    it('a port in use', async () => {
        const holder = Net.createServer();
        await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
        const port = (holder.address() as Net.AddressInfo).port;
        try {
            const line = expectOneLine(await start({ PORT: String(port), HOST: '127.0.0.1' }), 'PORT');
            expect(line).to.contain(`127.0.0.1:${port} is already in use`);
            expect(line).to.contain('set PORT');
        }
        finally {
            holder.close();
        }
    });
});
