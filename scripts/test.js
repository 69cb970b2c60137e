'use strict';

// The test command: the whole suite on SQLite, then again on PostgreSQL and MariaDB/MySQL when
// TEST_POSTGRES_URL / TEST_MYSQL_URL are set. Ends with one line: "N passed, N failed", which counts every
// failure lab reports; the exit code is 0 exactly when that line says 0 failed.

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
        report = undefined;
    }

    const counted = countResults(report, readText(summary));
    passed += counted.passed;
    failed += counted.failed;
    skipped += counted.skipped;
    if (report?.coverage) {
        console.log(`coverage on ${name}: ${report.coverage.percent.toFixed(2)}%`);
    }

    if (run.status !== 0 && counted.failed === 0) {
        // Coverage below the threshold, a leak, a lint error, or lab dying: the pass failed, and the total says so.
        console.error(`lab exited ${run.status ?? run.signal} on ${name} with no failed test counted (coverage below threshold, a leak, a lint error or a crash): counted as 1 failure`);
        failed += 1;
    }
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);

function readText(file) {
    try {
        return Fs.readFileSync(file, 'utf8');
    }
    catch {
        return '';
    }
}

/**
 * The counts of one pass, from lab's own summary line ("2 of 313 tests failed" or "313 tests complete", then
 * "(N skipped)"), which counts what its JSON report can miss (a failure with an empty message, a failing hook).
 * Script errors (an exception outside any test) count as failures too.
 */
function countResults(report, summary) {
    const text = summary.replace(/\x1b\[[0-9;]*m/g, '');
    const failedLine = /(\d+) of (\d+) tests failed/.exec(text);
    const completeLine = /(\d+) tests complete/.exec(text);
    const skippedCount = Number((/\((\d+) skipped\)/.exec(text) ?? [0, 0])[1]);
    const scriptErrors = report?.errors?.length ?? 0;
    if (failedLine) {
        return { passed: Number(failedLine[2]) - Number(failedLine[1]), failed: Number(failedLine[1]) + scriptErrors, skipped: skippedCount };
    }

    if (completeLine) {
        return { passed: Number(completeLine[1]), failed: scriptErrors, skipped: skippedCount };
    }

    // No summary: fall back on the JSON report, if there is one.
    const tests = report ? Object.values(report.tests).flat() : [];
    const failures = tests.filter((test) => test.err !== false).length;
    return { passed: tests.length - failures, failed: failures + scriptErrors, skipped: 0 };
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed || broken ? 1 : 0);
