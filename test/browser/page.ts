/**
 * One tab, with the few steps a browser test is made of: open a URL, wait for text, click, fill, screenshot.
 * Every wait is on a condition with a generous limit (a loaded 2-core machine), never a sleep; a wait that runs
 * out says what it waited for and what the page showed instead, and leaves a screenshot of it.
 */
import type { Locator, Page } from 'playwright-core';

/** The longest any one condition is waited for. */
export const waitTimeoutMs = 30_000;

export interface ScreenshotFolder {
    screenshotFile(step: string): string;
}

export class BrowserPage {

    /** Every URL this tab requested, in order (documents, scripts, XHR/fetch, images). */
    readonly requests: string[] = [];

    constructor(readonly page: Page, private readonly folder: ScreenshotFolder) {
        page.setDefaultTimeout(waitTimeoutMs);
        page.setDefaultNavigationTimeout(waitTimeoutMs);
        page.on('request', (request) => this.requests.push(request.url()));
    }

    /** Opens `url` and waits for its load event; answers the document's HTTP status. */
    async open(url: string): Promise<number> {
        const response = await this.page.goto(url, { waitUntil: 'load' });
        if (!response) {
            throw new Error(`opening ${url} gave no response`);
        }

        return response.status();
    }

    /** Waits until `text` is visible (anywhere, or inside `within`); answers the element that shows it. */
    async waitForText(text: string | RegExp, within?: string | Locator, timeoutMs = waitTimeoutMs): Promise<Locator> {
        const scope = typeof within === 'string' ? this.page.locator(within) : within ?? this.page.locator('body');
        const found = scope.getByText(text).first();
        await this.waitUntilVisible(found, `the text ${text}${within ? ` in ${within}` : ''}`, timeoutMs);
        return found;
    }

    /** Waits until the element matching `target` (a selector or a locator) is visible; answers it. */
    async waitFor(target: string | Locator, timeoutMs = waitTimeoutMs): Promise<Locator> {
        const found = typeof target === 'string' ? this.page.locator(target).first() : target;
        await this.waitUntilVisible(found, `${target}`, timeoutMs);
        return found;
    }

    /** Clicks the element matching `target` once it is visible and enabled. */
    async click(target: string | Locator): Promise<void> {
        await (await this.waitFor(target)).click();
    }

    /** Clicks the button whose accessible name is exactly `name` (inside `within` when given). */
    async clickButton(name: string, within?: string | Locator): Promise<void> {
        const scope = typeof within === 'string' ? this.page.locator(within) : within ?? this.page;
        await this.click(scope.getByRole('button', { name, exact: true }).first());
    }

    /** Types `value` into the field matching `target`, replacing what it held. */
    async fill(target: string | Locator, value: string): Promise<void> {
        await (await this.waitFor(target)).fill(value);
    }

    /**
     * A screenshot of what the window shows, named after the step, in the session's folder; answers its path.
     * With `focus`, that element is scrolled into view first (a whole long page would be too small to read).
     */
    async screenshot(step: string, focus?: string | Locator): Promise<string> {
        if (focus) {
            await (typeof focus === 'string' ? this.page.locator(focus).first() : focus).scrollIntoViewIfNeeded();
        }

        const path = this.folder.screenshotFile(step);
        await this.page.screenshot({ path });
        return path;
    }

    private async waitUntilVisible(target: Locator, what: string, timeoutMs: number): Promise<void> {
        try {
            await target.waitFor({ state: 'visible', timeout: timeoutMs });
        }
        catch (err) {
            const shown = await this.page.locator('body').innerText({ timeout: 5_000 }).catch(() => '(the page did not answer)');
            const shot = await this.screenshot(`timed-out-${what}`).catch(() => '(no screenshot)');
            throw new Error(`waited ${timeoutMs} ms for ${what} on ${this.page.url()}: ${(err as Error).message.split('\n')[0]}\n` +
                `screenshot: ${shot}\nthe page shows: ${shown.replace(/\s+/g, ' ').slice(0, 600)}`);
        }
    }
}
