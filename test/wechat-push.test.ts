import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { loadWechatOpsConfig } from '../config/wechat-ops';
import { aesKeyOf, decryptPush, encryptPush, pushSignature } from '../lib/wechat/push-crypto';
import { openPush, PushRejected, verifyHandshake } from '../lib/wechat/push-envelope';
import { uploadShipments } from '../lib/jobs/shipments';
import { Order } from '../models';
import { json, startApp, TestApp } from './helpers';
import { staffLogin } from './merchant-helpers';
import { ops, paidOrder, ship, shippedPushDelivered } from './shipping-helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

// reference wechat-miniprogram-ops §6.2: wxshop's golden vectors
const token = 'wxshopPushToken2026';
const aesKey = 'wXsHoP0123456789abcdefghijklmnopqrstuvwxyzA';
const appId = 'wx1234567890abcdef';
const settlementJson = '{"ToUserName":"gh_0123456789ab","FromUserName":"o_sysopenid_00000000000000","CreateTime":1767229200,"MsgType":"event","Event":"trade_manage_order_settlement","transaction_id":"4200000000202601010000000001","merchant_id":"1900000109","sub_merchant_id":"","merchant_trade_no":"WXS20260101000001","pay_time":1767139200,"shipped_time":1767229200,"estimated_settlement_time":1768093200}';
const settlementEncrypt = '3sq7fbyPeLImRJ5PS063To1kB/cCKV7O0XWhUH6zjHULjR6hAmq/oo19RXjANjGujl5sre+NLXydymB4UCRRpT36DdjRAauFS1LzpI3+/2eoRjQFQpCgNepAorpTOYbOwnWQRx0LIiy/oAYyhKEkt8VtKTF91f55MzeweyuYEYuGCdCieRjCVkiwLe8WndaXqdJ/OPOVv2YGPj3SqhbsxB1i8oqhMLdTHqg1ZgrKSWyd40mm11A1uEavUydKDF1J0KpePtk7kFEAM+521H7TYsZTzdvHoiR1hBtKnfnZgQwWKSqJ1F2+QT4m5hMqhqC/Z04oHvAXzKCXUvBSDyZOH8ajro039rN2k1FFU1wr9Ax1+buUQPTWCJPHhBmLVqRzngQXzUvrGprrJ13FQoFeDCV8lFw/7ytmO9h2GVKLe2pDt0dolQH73dtsqwbiEi3KbP1mb1Oh7qPviq1ELX9z0T9yvPZAuNRmOYi5Lgd4zTmJCmIsz+l7fyBKFArRjwWo4+cJMvSW4vexe+NxlSMqSISiiytRHfKB1dYRo6Hiad+KNdDdgid9UWMlCEO/JhvYEmHKVlfhIsmKnJAj71e7mQ==';
const remindXml = '<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[o_sysopenid_00000000000000]]></FromUserName><CreateTime>1767232800</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[trade_manage_remind_shipping]]></Event><transaction_id><![CDATA[4200000000202601010000000002]]></transaction_id><merchant_id><![CDATA[1900000109]]></merchant_id><sub_merchant_id><![CDATA[]]></sub_merchant_id><merchant_trade_no><![CDATA[WXS20260101000002]]></merchant_trade_no><pay_time>1767052800</pay_time><msg><![CDATA[订单超过48小时未发货]]></msg></xml>';
const remindEncrypt = 'C5i5onUXHD4ncrPCLNx3hjvWjcf0JhQuXLItTJnjM958lGHz28Iuq32dVBoLw16FKhrg5S9i3uv/XTNT0YgRsRMiBa6uMZb/QTc/f4P2dzhwXmczq9OccYwYHgDeW8A6+fk4OZSWwNrcKVpvsc9Hdr6021DliHytoiUq6R3rO1o8gRnFF4lSgcJKS4EF2Bz6pXSig3HCSXFW50jwyABQsyiW1VIszzgRYkspZcmV1K0NLe3Cg2VdubzLKPRIt/l2E4wRzPXt+cUqV8uftqylqIFVKyGhvB0D65Y7VfVeUj26tUkcG/qeAG14R/1O7oarOnXCKZmIkYFf2zr0Su5z0p8+Hnf/TUmU+aMtkp6GyryLrD3ZfnncINZ4DV9PcZ9XTGs7Dxddd4SgrJtsdbq6rZZmEZLyYlEJgH40Zt5K63aqsKwMR1KFfBFQdPZZaZ4TeieOTpVHIMz5JMEsjPa/vnK5tH2+ac5/2Xu5vnXNknHZd1wfgHfwYxQdZPQRDOsK26ej8NCnQMVNDFvNR7eBdVS4CChtiKdVEPz2tKXgcZx8Pf0krRG2oZ9lphf9ToSW21BBw/PPn5J0NIpa63FCWtGNSFto+E01H37srkEptzCisOU4h5v4Jnyp0b78T+zSN4B7habq0S1NrryF1SX7IOdxzq++sqk4+uz2DCfCnLhHNfDw1gpQzUJuhiCc+l3ZvrY67ggbdtaIL01UwXTi0hQQLRwe5v4LNXt6lMitdTSnEJWNHueqoY0IB76Q3hU1M7KgoHkERzuHEp1GjQj6QEf9K5TkUEW3TLy1ARKrjddIfpF8gxhLWH5lYPjo5uw8ExU31CEUtizJi1IZ4nWiUA==';

const safeJson = { token, encodingAesKey: aesKey, mode: 'safe' as const, format: 'json' as const };

describe('message push: the golden vectors (reference §6)', () => {

    it('reproduces the official examples (O1–O4)', () => {
        expect(pushSignature('AAAAA', '1714036504', '1514711492')).to.equal('f464b24fc39322e44b38aa78f5edd27bd1441696');
        expect(pushSignature('AAAAA', '1714037059', '486452656')).to.equal('899cf89e464efb63f54ddac96b0a0a235f53aa78');
        const o3 = '+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=';
        expect(pushSignature('AAAAA', '1714112445', '415670741')).to.equal('6c5c811b55cc85e0e1b54100749188c20beb3f5d');
        expect(pushSignature('AAAAA', '1714112445', '415670741', o3)).to.equal('046e02f8204d34f8ba5fa3b1db94908f3df2e9b3');
        const message = decryptPush('A'.repeat(43), o3, 'wxba5fad812f8e6fb9');
        expect(JSON.parse(message)).to.include({ Event: 'debug_demo', debug_str: 'hello world' });
        expect(decryptRandom(o3).toString()).to.equal('a8eedb185eb2fecf');
        expect(encryptPush('A'.repeat(43), message, 'wxba5fad812f8e6fb9', 'a8eedb185eb2fecf')).to.equal(o3);
        const reply = encryptPush('A'.repeat(43), '{"demo_resp":"good luck"}', 'wxba5fad812f8e6fb9', Buffer.from('707722b803182950'));
        expect(reply).to.equal('ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==');
        expect(pushSignature('AAAAA', '1713424427', '415670741', reply)).to.equal('1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1');
    });

    it("reproduces wxshop's vectors 1–5", () => {
        expect(aesKeyOf(aesKey).toString('hex')).to.equal('c17b07a0fd35db7e39ebbf3d69b71d79f8218a39259a7a29aabb2dbafc31cb30');
        expect(pushSignature(token, '1767225600', '1029384756')).to.equal('1dc061cf3f1c0782a73792c2e11866d1d993bce8');
        expect(pushSignature(token, '1767225601', '2938475610')).to.equal('8939ed1a2deb7bc778f00faee8171a9cc9c924f2');
        expect(encryptPush(aesKey, settlementJson, appId, 'wxshopRandom0001')).to.equal(settlementEncrypt);
        expect(pushSignature(token, '1767229201', '1357924680')).to.equal('9e2c70a9ee208025e561beb8d94e3d50b07711d9');
        expect(pushSignature(token, '1767229201', '1357924680', settlementEncrypt)).to.equal('510d532a3130f1db51a378d9946071013e11257c');
        expect(encryptPush(aesKey, remindXml, appId, 'wxshopRandom0002')).to.equal(remindEncrypt);
        expect(pushSignature(token, '1767232801', '2468013579', remindEncrypt)).to.equal('e8ce03450e961f40a294a675f76bee2ab33d1bcf');
        const reply = encryptPush(aesKey, '{"demo_resp":"ok"}', appId, 'wxshopRandom0003');
        expect(reply).to.equal('GuQZuf6cMkkFm1pGOFKMZWw/zmAUuI/eMXtnB0mXeUKKbNf4VkG55uz+5jC8Z+MBRz3hDaE8LbMdDNHj+5qvMQ==');
        expect(pushSignature(token, '1767229202', '1357924680', reply)).to.equal('9d3d4da276d06f8bcb0a764752b1e1293b31234d');
    });

    it('opens the safe-mode vectors 3 (JSON) and 4 (XML), and refuses their negative forms', async () => {
        const query = { signature: '9e2c70a9ee208025e561beb8d94e3d50b07711d9', timestamp: '1767229201', nonce: '1357924680', encrypt_type: 'aes', msg_signature: '510d532a3130f1db51a378d9946071013e11257c' };
        const body = JSON.stringify({ ToUserName: 'gh_0123456789ab', Encrypt: settlementEncrypt });
        const event = await openPush(safeJson, appId, query, body);
        expect(event).to.include({ Event: 'trade_manage_order_settlement', transaction_id: '4200000000202601010000000001', estimated_settlement_time: 1768093200 });

        const xmlQuery = { signature: pushSignature(token, '1767232801', '2468013579'), timestamp: '1767232801', nonce: '2468013579', encrypt_type: 'aes', msg_signature: 'e8ce03450e961f40a294a675f76bee2ab33d1bcf' };
        const xml = `<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[${remindEncrypt}]]></Encrypt></xml>`;
        expect(await openPush({ ...safeJson, format: 'xml' }, appId, xmlQuery, xml)).to.include({ Event: 'trade_manage_remind_shipping', msg: '订单超过48小时未发货', pay_time: '1767052800' });

        const rejected = async (promise: Promise<unknown>, status: PushRejected['status']) => {
            const err = await expect(promise).to.reject(PushRejected);
            expect((err as PushRejected).status).to.equal(status);
        };

        const flipped = settlementEncrypt.replace(/^3/, '4');
        await rejected(openPush(safeJson, appId, query, JSON.stringify({ Encrypt: flipped })), 401);       // msg_signature fails before decrypting
        await rejected(openPush(safeJson, 'wx0000000000000000', query, body), 400);                        // made for another appid
        await rejected(openPush(safeJson, appId, { ...query, msg_signature: undefined } as any, body), 401);
        await rejected(openPush(safeJson, appId, { ...query, signature: '0'.repeat(40) }, body), 401);
        await rejected(openPush(safeJson, appId, { ...query, encrypt_type: undefined } as any, body), 400);   // safe mode refuses plaintext
        await rejected(openPush(safeJson, appId, query, 'not json'), 400);
        await rejected(openPush({ ...safeJson, token: undefined }, appId, query, body), 404);

        // a pad byte of 0 or 33, and an EncodingAESKey of 42 characters
        for (const pad of [0, 33]) {
            const crafted = craftedPadding(pad);
            await rejected(openPush(safeJson, appId, { ...query, msg_signature: pushSignature(token, query.timestamp, query.nonce, crafted) }, JSON.stringify({ Encrypt: crafted })), 400);
        }

        expect(() => aesKeyOf(aesKey.slice(0, 42))).to.throw(/43/);
        const problems: string[] = [];
        loadWechatOpsConfig({ WECHAT_PUSH_TOKEN: token, WECHAT_PUSH_AES_KEY: aesKey.slice(0, 42) }, problems, { sandbox: false, jwtSecret: '' });
        expect(problems.join()).to.contain('WECHAT_PUSH_AES_KEY');
    });

    it('the GET handshake answers echostr for the official example, nothing for a bad signature', () => {
        expect(verifyHandshake({ token: 'AAAAA', mode: 'plaintext', format: 'json' }, { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', timestamp: '1714036504', nonce: '1514711492', echostr: '4375120948345356249' }))
            .to.equal('4375120948345356249');
        expect(() => verifyHandshake({ token: 'AAAAA', mode: 'plaintext', format: 'json' }, { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441697', timestamp: '1714036504', nonce: '1514711492', echostr: '1' })).to.throw(PushRejected);
    });
});

/** The random prefix of an Encrypt (its first 16 plaintext bytes), to re-encrypt it identically. */
function decryptRandom(encrypted: string): Buffer {
    const Crypto = require('crypto');
    const key = aesKeyOf('A'.repeat(43));
    const decipher = Crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    return Buffer.concat([decipher.update(Buffer.from(encrypted, 'base64')), decipher.final()]).subarray(0, 16);
}

/** A ciphertext of the wxshop key whose last byte (the pad length) is `pad`. */
function craftedPadding(pad: number): string {
    const Crypto = require('crypto');
    const key = aesKeyOf(aesKey);
    const plain = Buffer.alloc(64, pad);
    const cipher = Crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

describe('message push: POST /wechat/push', () => {

    const variants = [
        { WECHAT_PUSH_MODE: 'safe', WECHAT_PUSH_FORMAT: 'json' },
        { WECHAT_PUSH_MODE: 'safe', WECHAT_PUSH_FORMAT: 'xml' },
        { WECHAT_PUSH_MODE: 'plaintext', WECHAT_PUSH_FORMAT: 'json' },
        { WECHAT_PUSH_MODE: 'plaintext', WECHAT_PUSH_FORMAT: 'xml' },
        { WECHAT_PUSH_MODE: 'compatible', WECHAT_PUSH_FORMAT: 'json' }
    ];

    for (const variant of variants) {
        describe(`${variant.WECHAT_PUSH_MODE}, ${variant.WECHAT_PUSH_FORMAT}`, () => {

            let app: TestApp;
            before(async () => {
                app = await startApp({ ...variant, WECHAT_PUSH_TOKEN: token, WECHAT_PUSH_AES_KEY: aesKey });
                await ops(app, 'settings', { shippingSyncLagSeconds: 0 });
            });
            after(() => app.stop());

            it("the simulator's pushes move a shipped order to completed", async () => {
                const operator = await staffLogin(app, 'operator');
                const { order, transactionId } = await paidOrder(app);
                expect((await ship(app, operator, order.id)).statusCode).to.equal(201);
                await uploadShipments(app.context);
                expect((await ops(app, 'confirm-receipt', { transactionId })).statusCode).to.equal(200);
                expect((await Order.findByPk(order.id))!.status).to.equal('completed');
                const pushes = (await ops(app, 'pushes', undefined, 'GET')).body.filter((push: any) => push.transactionId === transactionId);
                expect(pushes.map((push: any) => push.outcome)).to.equal(['success', 'success']);
            });

            it('a push whose signature does not verify is a 401 and changes nothing', async () => {
                const operator = await staffLogin(app, 'operator');
                const { order, transactionId } = await paidOrder(app);
                await ship(app, operator, order.id);
                await uploadShipments(app.context);
                await shippedPushDelivered(app, transactionId);
                await ops(app, 'push-faults', { mode: 'drop' });
                await ops(app, 'confirm-receipt', { transactionId });
                const sandbox = app.sandbox.ops;
                const { query, body } = sandbox.pusher.envelope({ ToUserName: 'gh_0123456789ab', MsgType: 'event', Event: 'trade_manage_order_settlement', transaction_id: transactionId, settlement_time: 1 });
                const forged = { ...query, signature: pushSignature('not-the-token', query.timestamp, query.nonce), ...query.msg_signature ? { msg_signature: pushSignature('not-the-token', query.timestamp, query.nonce, 'x') } : {} };
                const contentType = variant.WECHAT_PUSH_FORMAT === 'xml' ? 'text/xml' : 'application/json';
                const res = await json(app.server, { method: 'POST', url: `/wechat/push?${new URLSearchParams(forged)}`, payload: body, headers: { 'content-type': contentType } });
                expect(res.statusCode).to.equal(401);
                expect((await Order.findByPk(order.id))!.status).to.equal('shipped');

                const genuine = await json(app.server, { method: 'POST', url: `/wechat/push?${new URLSearchParams(query)}`, payload: body, headers: { 'content-type': contentType } });
                expect(genuine.statusCode).to.equal(200);
                expect(genuine.body).to.equal('success');
                expect((await Order.findByPk(order.id))!.status).to.equal('completed');
            });

            it('answers the GET handshake with the raw echostr', async () => {
                const query = { signature: pushSignature(token, '1767225600', '1029384756'), timestamp: '1767225600', nonce: '1029384756', echostr: '4375120948345356249' };
                const res = await app.server.inject({ method: 'GET', url: `/wechat/push?${new URLSearchParams(query)}` });
                expect(res.statusCode).to.equal(200);
                expect(res.payload).to.equal('4375120948345356249');
                const bad = await app.server.inject({ method: 'GET', url: `/wechat/push?${new URLSearchParams({ ...query, nonce: '1' })}` });
                expect(bad.statusCode).to.equal(401);
            });
        });
    }
});
