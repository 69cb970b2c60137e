import * as Fs from 'fs';
import * as Http from 'http';
import type { AddressInfo } from 'net';
import * as Path from 'path';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { browserSkipReason, browserTitle, BrowserSession, chromiumPath, launchTimeoutMs, screenshotRoot } from './harness';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/**
 * A page like a cashier page: a status that changes a moment after a click (as a poll would change it), a field,
 * and a line that says whether this profile has been here before (localStorage).
 */
const page = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Harness page</title></head>
<body>
  <h1>Harness page</h1>
  <p id="status">Waiting for payment</p>
  <label>Note <input id="note"></label>
  <button type="button" id="pay">Pay</button>
  <p id="visited"></p>
  <script>
    document.getElementById('visited').textContent = 'visited before: ' + (localStorage.getItem('visited') || 'no');
    localStorage.setItem('visited', 'yes');
    document.getElementById('pay').addEventListener('click', function () {
      setTimeout(function () {
        document.getElementById('status').textContent = 'Paid: ' + document.getElementById('note').value;
      }, 300);
    });
  </script>
</body>
</html>`;

const isPng = (file: string) => Fs.readFileSync(file).subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

describe('the browser harness', () => {

    it('skips outside CI when chromium is missing, saying why, and never skips in CI', async () => {
        expect(browserSkipReason({}, false)).to.equal(`skipped: no chromium at ${chromiumPath}; apt-get install chromium (in CI, CI=true, this is a failure)`);
        expect(browserSkipReason({ CI: 'true' }, false)).to.be.undefined();
        expect(browserSkipReason({}, true)).to.be.undefined();
        // In CI the tests run, and a missing chromium fails them with the reason.
        await expect(BrowserSession.launch('missing', '/nonexistent/chromium')).to.reject(/^chromium is not installed at \/nonexistent\/chromium: browser tests must run in CI/);
    });

    describe(browserTitle('in chromium'), { skip: browserSkipReason() !== undefined }, () => {

        let server: Http.Server;
        let base: string;
        let session: BrowserSession;

        before({ timeout: launchTimeoutMs * 2 }, async () => {
            server = Http.createServer((req, res) => {
                res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
                res.end(page);
            });
            await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
            base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            session = await BrowserSession.launch('browser-harness');
        });

        after({ timeout: launchTimeoutMs }, async () => {
            await session?.close();
            await new Promise((resolve) => server?.close(resolve));
        });

        it('opens a page, fills, clicks, waits for the text that follows, and numbers its screenshots in order', { timeout: 120_000 }, async () => {
            const tab = await session.newPage();
            expect(await tab.open(`${base}/cashier`)).to.equal(200);
            await tab.waitForText('visited before: no');
            const first = await tab.screenshot('opened');
            await tab.fill('#note', 'order 42');
            await tab.clickButton('Pay');
            await tab.waitForText('Paid: order 42', '#status');
            const second = await tab.screenshot('Paid, at last!');

            expect(session.screenshots.startsWith(`${screenshotRoot}${Path.sep}`)).to.be.true();
            expect(Path.basename(session.screenshots)).to.equal('browser-harness');
            expect([Path.dirname(first), Path.dirname(second)]).to.equal([session.screenshots, session.screenshots]);
            expect(Path.basename(first)).to.match(/^\d\d-opened\.png$/);
            expect(Path.basename(second)).to.match(/^\d\d-paid-at-last\.png$/);
            expect(Path.basename(second) > Path.basename(first)).to.be.true();
            expect(isPng(first) && isPng(second)).to.be.true();
            expect(tab.requests).to.include(`${base}/cashier`);

            // The same profile remembers: the check below on a fresh profile could fail.
            await tab.open(`${base}/cashier`);
            await tab.waitForText('visited before: yes');
        });

        it('a wait that runs out says what it waited for and what the page showed, and leaves a screenshot', { timeout: 120_000 }, async () => {
            const tab = await session.newPage();
            await tab.open(`${base}/cashier`);
            const err = await expect(tab.waitForText('Refunded', '#status', 500)).to.reject(Error);
            expect(err.message).to.startWith(`waited 500 ms for the text Refunded in #status on ${base}/cashier`);
            expect(err.message).to.contain('the page shows: Harness page Waiting for payment');
            const shot = /screenshot: (\S+)/.exec(err.message)![1];
            expect(Path.dirname(shot)).to.equal(session.screenshots);
            expect(isPng(shot)).to.be.true();
        });

        it('starts every session on an empty profile of its own and removes it on close', { timeout: launchTimeoutMs * 2 }, async () => {
            const second = await BrowserSession.launch('browser-harness-second');
            try {
                expect(second.profile).to.not.equal(session.profile);
                expect(Fs.existsSync(second.profile)).to.be.true();
                const tab = await second.newPage();
                await tab.open(`${base}/cashier`);
                await tab.waitForText('visited before: no');
            }
            finally {
                await second.close();
            }

            expect(Fs.existsSync(second.profile)).to.be.false();
        });
    });
});
