import * as ChildProcess from 'child_process';
import * as Fs from 'fs';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

const { expect } = Code;
const { describe, it, after } = exports.lab = Lab.script();

const root = Path.join(__dirname, '..');
const folders: string[] = [];

/**
 * A lab script in a folder of its own under data/ (ignored by git, and outside test/ so `npm test` never runs it;
 * inside the project so lab's coverage finds its lint configuration), beside the module it covers (`covered.js`:
 * `half(n)`, with a branch the script may leave uncovered).
 */
function fixture(source: string): string {
    Fs.mkdirSync(Path.join(root, 'data'), { recursive: true });
    const folder = Fs.mkdtempSync(Path.join(root, 'data', 'runner-fixture-'));
    folders.push(folder);
    Fs.writeFileSync(Path.join(folder, 'covered.js'), `'use strict';\nexports.half = (n) => {\n    if (n % 2) {\n        throw new Error('odd');\n    }\n\n    return n / 2;\n};\n`);
    const file = Path.join(folder, 'fixture.js');
    Fs.writeFileSync(file, `'use strict';\nconst Lab = require('@hapi/lab');\nconst { half } = require('./covered');\nconst { describe, it, before } = exports.lab = Lab.script();\nit('halves', () => half(4));\n${source}\n`);
    return file;
}

/**
 * `npm test` (scripts/test.js) on one fixture, SQLite only: its last line and exit code. Coverage (90% enforced) is
 * measured on the fixture itself.
 */
function runTests(file: string): { lastLine: string; status: number | null; output: string } {
    const env: Record<string, string | undefined> = { ...process.env, NODE_PATH: Path.join(root, 'node_modules') };
    delete env.TEST_POSTGRES_URL;
    delete env.TEST_MYSQL_URL;
    const run = ChildProcess.spawnSync(process.execPath, ['scripts/test.js', '--coverage-path', Path.relative(root, Path.dirname(file)), file], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
    const output = `${run.stdout}${run.stderr}`;
    const lines = run.stdout.trim().split('\n');
    return { lastLine: lines[lines.length - 1], status: run.status, output };
}

describe('the test runner (npm test)', () => {

    after(() => {
        for (const folder of folders) {
            Fs.rmSync(folder, { recursive: true, force: true });
        }
    });

    it('counts what lab counts: a failure with an empty message and a failing hook', () => {
        const run = runTests(fixture(`
            it('covers the odd branch', () => { try { half(3); } catch { } });
            it('fails with an empty message', () => { throw new Error(''); });
            describe('behind a hook that fails', () => {
                before(() => { throw new Error('Connection is closed.'); });
                it('never runs', () => {});
            });`));
        expect(run.lastLine, run.output).to.match(/^2 passed, [2-9] failed$/);
        expect(run.status).to.equal(1);
    });

    it('counts a pass that lab failed without a failed test (here: coverage under the threshold) as a failure', () => {
        const run = runTests(fixture(''));
        expect(run.output).to.contain('counted as 1 failure');
        expect(run.lastLine, run.output).to.equal('1 passed, 1 failed');
        expect(run.status).to.equal(1);
    });

    it('exits 0 exactly when its last line says 0 failed, and reports skips', () => {
        const run = runTests(fixture(`
            it('covers the odd branch', () => { try { half(3); } catch { } });
            it('is skipped', { skip: true }, () => {});`));
        expect(run.lastLine, run.output).to.equal('2 passed, 0 failed, 1 skipped');
        expect(run.status).to.equal(0);
    });
});
