import * as Http from 'http';
import type { AddressInfo } from 'net';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { createShop, startApp, TestApp } from '../helpers';
import { browserSkipReason, browserTitle, BrowserSession, launchTimeoutMs } from './harness';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** Plain HTTP against the app's real port, as a buyer's phone or a browser would call it. */
async function call(app: TestApp, method: string, path: string, body?: object, token?: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${app.base}${path}`, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body ? JSON.stringify(body) : undefined
    });
    return { status: res.status, body: await res.json() };
}

/** wx.login() in the simulator, then POST /users/login: a buyer's token. */
async function buyerToken(app: TestApp): Promise<string> {
    const minted = await call(app, 'POST', '/sandbox/__sim/login-codes', {});
    expect(minted.status).to.equal(200);
    const login = await call(app, 'POST', '/users/login', { code: minted.body.code });
    expect(login.status).to.equal(200);
    return login.body.token;
}

async function placeOrder(app: TestApp, token: string, goodsId: number): Promise<{ id: number; outTradeNo: string }> {
    const res = await call(app, 'POST', '/orders', { goodsList: [{ goodsId, count: 1 }] }, token);
    expect(res.status).to.equal(201);
    return res.body;
}

/** A server that would hand Swagger UI another API's spec (CORS-open, so a browser could load it), counting hits. */
async function decoySpecServer(): Promise<{ base: string; hits: string[]; close(): Promise<void> }> {
    const hits: string[] = [];
    const server = Http.createServer((req, res) => {
        hits.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify({ swagger: '2.0', info: { title: 'Decoy API', version: '6.6.6' }, paths: {} }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        hits,
        close: () => new Promise<void>((resolve) => server.close(() => resolve()))
    };
}

describe(browserTitle('Swagger UI in chromium'), { skip: browserSkipReason() !== undefined }, () => {

    let app: TestApp;
    let session: BrowserSession;

    before({ timeout: launchTimeoutMs * 2 }, async () => {
        app = await startApp();
        session = await BrowserSession.launch('swagger-ui');
    });

    after({ timeout: launchTimeoutMs }, async () => {
        await session?.close();
        await app?.stop();
    });

    it('shows the API, takes a buyer\'s token through Authorize as its hint says, and runs GET /orders with it', { timeout: 180_000 }, async () => {
        const { goodsIds: [goodsId] } = await createShop([{ price: 1990, stock: 10 }]);
        const token = await buyerToken(app);
        const own = await placeOrder(app, token, goodsId);
        const others = await placeOrder(app, await buyerToken(app), goodsId);

        const tab = await session.newPage();
        expect(await tab.open(`${app.base}/documentation`)).to.equal(200);
        await tab.waitForText('wxshop API', '.information-container');
        for (const tag of ['users', 'shops', 'orders', 'health', 'merchant']) {
            await tab.waitFor(`#operations-tag-${tag}`);
        }

        const listOrders = '#operations-orders-getOrders';
        await tab.waitForText("The caller's orders, newest first", listOrders);
        await tab.screenshot('documentation loaded');

        // Without a token the call is refused: the 200 below is the token's doing.
        await tab.click(`${listOrders} .opblock-summary`);
        await tab.clickButton('Try it out', listOrders);
        await tab.clickButton('Execute', listOrders);
        const status = `${listOrders} .live-responses-table .response .response-col_status`;
        await tab.waitForText('401', status);
        await tab.screenshot('GET orders without a token: 401', status);

        await tab.clickButton('Authorize', '.scheme-container');
        const dialog = '.dialog-ux .modal-ux';
        await tab.waitForText('Available authorizations', dialog);
        // The hint, rendered from the security definition's Markdown: what to type.
        const hint = await tab.waitForText(/^Send Bearer <token>, with the token from POST \/users\/login$/, dialog);
        expect(await hint.locator('code').innerText()).to.equal('Bearer <token>');
        await tab.screenshot('authorize dialog with its hint');

        await tab.fill(`${dialog} .auth-container input[type=text]`, `Bearer ${token}`);
        await tab.click(`${dialog} button.modal-btn.authorize`);
        await tab.waitForText(/^Authorized$/, dialog);
        await tab.waitFor(`${dialog} button:text-is("Logout")`);
        await tab.screenshot('token accepted');
        await tab.click(`${dialog} button.btn-done`);
        await tab.page.locator(dialog).waitFor({ state: 'detached' });
        await tab.waitFor('.scheme-container .btn.authorize.locked');

        await tab.clickButton('Execute', listOrders);
        await tab.waitForText('200', status);
        const response = `${listOrders} .live-responses-table .response .response-col_description`;
        await tab.waitForText(own.outTradeNo, response);
        const shown = JSON.parse(await tab.page.locator(`${response} .highlight-code pre`).first().innerText());
        expect(shown.totalCount).to.equal(1);
        expect(shown.results.map((order: any) => order.id)).to.equal([own.id]);
        expect(JSON.stringify(shown)).to.not.contain(others.outTradeNo);
        // The request Swagger UI made, as its curl line shows it: the token, as the Authorization header.
        await tab.waitForText(`Authorization: Bearer ${token}`, `${listOrders} .curl-command`);
        await tab.screenshot('GET orders with the token: 200', status);
    });

    it('loads only its own spec, whatever the query string names, and nothing from another origin', { timeout: 180_000 }, async () => {
        const decoy = await decoySpecServer();
        try {
            const tab = await session.newPage();
            const url = `${app.base}/documentation?url=${encodeURIComponent(`${decoy.base}/spec.json`)}&configUrl=${encodeURIComponent(`${decoy.base}/config.json`)}`;
            expect(await tab.open(url)).to.equal(200);
            await tab.waitForText('wxshop API', '.information-container');
            await tab.waitFor('#operations-orders-getOrders');
            await tab.screenshot('documentation with another spec in its query string');

            expect(decoy.hits).to.equal([]);
            expect(await tab.page.getByText('Decoy API').count()).to.equal(0);
            const origin = new URL(app.base).origin;
            const elsewhere = tab.requests.filter((request) => !request.startsWith('data:') && new URL(request).origin !== origin);
            expect(elsewhere).to.equal([]);
            expect(tab.requests.map((request) => new URL(request).pathname).filter((path) => path.endsWith('.json'))).to.equal(['/swagger.json']);

            // The decoy was there to be loaded: the page itself can reach it, so the silence above is the page's choice.
            const reached = await tab.page.evaluate(async (address) => (await fetch(address)).status, `${decoy.base}/spec.json`);
            expect(reached).to.equal(200);
            expect(decoy.hits).to.equal(['/spec.json']);
        }
        finally {
            await decoy.close();
        }
    });
});
