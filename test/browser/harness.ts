/**
 * The browser the browser tests drive: Debian's chromium (`apt-get install chromium`; npm cannot download browsers
 * here), through playwright-core. Each session gets a fresh, empty profile of its own, removed when it closes.
 *
 * Where chromium is missing: outside CI the browser tests are skipped, saying why in their title; in CI
 * (`CI=true`) they run and fail, because a browser test that never runs proves nothing.
 */
import * as Fs from 'fs';
import * as Os from 'os';
import * as Path from 'path';

import { BrowserContext, chromium } from 'playwright-core';

import { dialect } from '../helpers';
import { BrowserPage } from './page';

export const chromiumPath = '/usr/bin/chromium';

/**
 * Chromium as root in a container with no internet: no sandbox (root), no GPU, and none of its own network
 * traffic (updates, sync, field trials), whose refused connections otherwise flood a closed network at every start.
 */
export const chromiumArgs = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-quic',
    '--no-first-run',
    '--disable-sync'
];

/** Where every screenshot of a test run goes (git-ignored); `.ci/run` prints it at the end. */
export const screenshotRoot = Path.join(__dirname, '..', '..', 'test-artifacts', 'screenshots');

/** Generous: chromium's start and first paint on a 2-core machine busy with other test runs. */
export const launchTimeoutMs = 60_000;

/** Why the browser tests cannot run here, or undefined when they can. In CI the answer is always undefined. */
export function browserSkipReason(env: NodeJS.ProcessEnv = process.env, installed = Fs.existsSync(chromiumPath)): string | undefined {
    if (env.CI === 'true' || installed) {
        return undefined;
    }

    return `skipped: no chromium at ${chromiumPath}; apt-get install chromium (in CI, CI=true, this is a failure)`;
}

/** A describe title that says when, and why, its tests are skipped. */
export function browserTitle(title: string): string {
    const reason = browserSkipReason();
    return reason ? `${title} (${reason})` : title;
}

let announced = false;

export class BrowserSession {

    /** The folder this session's screenshots go to: one per database pass and suite, emptied at launch. */
    readonly screenshots: string;
    private context: BrowserContext | undefined;
    private readonly pages: BrowserPage[] = [];
    private shots = 0;

    private constructor(readonly suite: string, readonly profile: string) {
        this.screenshots = Path.join(screenshotRoot, dialect, suite);
    }

    /** Starts chromium with an empty profile; `suite` names the screenshot folder (e.g. `swagger-ui`). */
    static async launch(suite: string, executablePath = chromiumPath): Promise<BrowserSession> {
        if (!Fs.existsSync(executablePath)) {
            throw new Error(`chromium is not installed at ${executablePath}: browser tests must run in CI (.ci/run installs Debian's chromium package)`);
        }

        const session = new BrowserSession(suite, Fs.mkdtempSync(Path.join(Os.tmpdir(), 'wxshop-chromium-')));
        Fs.rmSync(session.screenshots, { recursive: true, force: true });
        Fs.mkdirSync(session.screenshots, { recursive: true });
        if (!announced) {
            announced = true;
            console.log(`\nbrowser screenshots: ${screenshotRoot}`);
        }

        try {
            session.context = await chromium.launchPersistentContext(session.profile, {
                executablePath,
                headless: true,
                args: chromiumArgs,
                timeout: launchTimeoutMs,
                viewport: { width: 1280, height: 900 }
            });
        }
        catch (err) {
            Fs.rmSync(session.profile, { recursive: true, force: true });
            throw err;
        }

        return session;
    }

    /** A new tab. */
    async newPage(): Promise<BrowserPage> {
        const page = new BrowserPage(await this.context!.newPage(), this);
        this.pages.push(page);
        return page;
    }

    /** The next screenshot's file: numbered in the order taken, so the folder reads as the test's story. */
    screenshotFile(step: string): string {
        this.shots += 1;
        const name = `${String(this.shots).padStart(2, '0')}-${step.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()}.png`;
        return Path.join(this.screenshots, name);
    }

    /** Closes chromium (and every tab) and removes the profile. */
    async close(): Promise<void> {
        try {
            await this.context?.close();
        }
        finally {
            this.context = undefined;
            Fs.rmSync(this.profile, { recursive: true, force: true });
        }
    }
}
