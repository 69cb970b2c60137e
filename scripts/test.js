'use strict';

// The test command: the whole suite on SQLite, then again on PostgreSQL and MariaDB/MySQL when
// TEST_POSTGRES_URL / TEST_MYSQL_URL are set. Ends with one line: "N passed, N failed".

const ChildProcess = require('child_process');
const Fs = require('fs');
const Os = require('os');
const Path = require('path');

const databases = [['sqlite', '']];
if (process.env.TEST_POSTGRES_URL) {
    databases.push(['postgres', process.env.TEST_POSTGRES_URL]);
}

if (process.env.TEST_MYSQL_URL) {
    databases.push(['mysql', process.env.TEST_MYSQL_URL]);
}

const lab = require.resolve('@hapi/lab/bin/lab');
const extraArgs = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
let broken = false;

for (const [name, url] of databases) {
    const folder = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-lab-'));
    const results = Path.join(folder, 'results.json');
    const summary = Path.join(folder, 'summary.txt');
    console.log(`\n=== test suite on ${name} ===`);
    // Coverage is enforced on the SQLite pass; the other passes run the same code against other databases.
    const coverage = name === 'sqlite' ? ['-t', '90'] : [];
    const run = ChildProcess.spawnSync(process.execPath, [
        lab, '--typescript', '-a', '@hapi/code', '-m', '60000', '-v',
        ...coverage,
        '-r', 'console', '-o', 'stdout',
        '-r', 'json', '-o', results,
        '-r', 'console', '-o', summary,
        ...extraArgs
    ], { stdio: 'inherit', env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'test' } });

    let report;
    try {
        report = JSON.parse(Fs.readFileSync(results, 'utf8'));
    }
    catch {
        console.error(`lab produced no results on ${name} (exit ${run.status})`);
        broken = true;
        continue;
    }

    // lab's JSON report does not mark skipped tests; its console summary says "(N skipped)".
    const skips = Number((/\((\d+) skipped\)/.exec(Fs.readFileSync(summary, 'utf8')) ?? [0, 0])[1]);
    const tests = Object.values(report.tests).flat();
    const failures = tests.filter((test) => test.err).length;
    passed += tests.length - failures - skips;
    failed += failures;
    skipped += skips;
    if (report.coverage) {
        console.log(`coverage on ${name}: ${report.coverage.percent.toFixed(2)}%`);
    }

    if (run.status !== 0 && failures === 0) {
        console.error(`lab exited ${run.status} on ${name} (coverage below threshold, a leak, or a lint error)`);
        broken = true;
    }
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed || broken ? 1 : 0);
