import * as Crypto from 'crypto';

import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';
import { Hash } from 'wechatpay-axios-plugin';

import { declaredSignType, signatureMatches, signV2, verifyV2 } from '../lib/wechatpay/sign';

const { expect } = Code;
const { describe, it } = exports.lab = Lab.script();

/**
 * API v2 signature vectors beside the reference's three (§7): an empty field and a sign_type field. Each expected
 * value was computed with plain node:crypto over the stringA written out below by hand (not with our sign code),
 * and each is checked here against wechatpay-axios-plugin's Hash.sign too, so our code is never its own judge.
 */

const key = '192006250b4c09247ec02edce69f6a2d';
const official = { appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test', nonce_str: 'ibuaiVcKdpRxkhJA' };

const vectors = [
    {
        what: 'the official example (reference §2.2)',
        params: official,
        stringA: 'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA',
        md5: '9A0A8659F005D6984697E2CA0A9CF3B7',
        hmac: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6'
    },
    {
        what: 'an empty field (device_info=""), which is not signed',
        params: { ...official, device_info: '' },
        stringA: 'appid=wxd930ea5d5a258f4f&body=test&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA',
        md5: '9C5719D2CE48B8875101722D3A792434',
        hmac: 'B8F8CF02C8F8ED7AA3E829CDFB1C57AD5F0EF73408F726F48297962CE491B555'
    },
    {
        what: 'an empty field added to the official example: the same signature as without it',
        params: { ...official, attach: '' },
        stringA: 'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA',
        md5: '9A0A8659F005D6984697E2CA0A9CF3B7',
        hmac: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6'
    },
    {
        what: 'sign_type=HMAC-SHA256, which is signed',
        params: { ...official, sign_type: 'HMAC-SHA256' },
        stringA: 'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&sign_type=HMAC-SHA256',
        hmac: '2C9DF1156522C0B2B03B4DBF3BCA5CACB602CBD5CA0F9E112458CF3E9855303B'
    },
    {
        what: 'sign_type=MD5, which is signed',
        params: { ...official, sign_type: 'MD5' },
        stringA: 'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&sign_type=MD5',
        md5: '6B4978B16793D0C2604CD59C47425A27'
    }
];

describe('API v2 golden signature vectors (empty field, sign_type)', () => {

    for (const vector of vectors) {
        it(`signs ${vector.what}`, () => {
            if (vector.md5) {
                expect(Crypto.createHash('md5').update(`${vector.stringA}&key=${key}`).digest('hex').toUpperCase()).to.equal(vector.md5);
                expect(Hash.sign('MD5', vector.params, key)).to.equal(vector.md5);
                expect(signV2(vector.params, key, 'MD5')).to.equal(vector.md5);
            }

            if (vector.hmac) {
                expect(Crypto.createHmac('sha256', key).update(`${vector.stringA}&key=${key}`).digest('hex').toUpperCase()).to.equal(vector.hmac);
                expect(Hash.sign('HMAC-SHA256', vector.params, key)).to.equal(vector.hmac);
                expect(signV2(vector.params, key, 'HMAC-SHA256')).to.equal(vector.hmac);
            }
        });
    }

    it('verifies the sign_type vectors only with the algorithm they name', () => {
        expect(verifyV2({ ...official, sign_type: 'HMAC-SHA256', sign: '2C9DF1156522C0B2B03B4DBF3BCA5CACB602CBD5CA0F9E112458CF3E9855303B' }, key)).to.be.true();
        expect(verifyV2({ ...official, sign_type: 'MD5', sign: '6B4978B16793D0C2604CD59C47425A27' }, key)).to.be.true();
        // The MD5 of the same string, claiming HMAC-SHA256, and the signature made without sign_type: both refused.
        expect(verifyV2({ ...official, sign_type: 'HMAC-SHA256', sign: Hash.sign('MD5', { ...official, sign_type: 'HMAC-SHA256' }, key) }, key)).to.be.false();
        expect(verifyV2({ ...official, sign_type: 'HMAC-SHA256', sign: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6' }, key)).to.be.false();
        expect(verifyV2({ ...official, sign_type: 'SHA1', sign: '9A0A8659F005D6984697E2CA0A9CF3B7' }, key)).to.be.false();
    });

    it('verifies an empty field as if it were absent', () => {
        expect(verifyV2({ ...official, device_info: '', sign: '9C5719D2CE48B8875101722D3A792434' }, key)).to.be.true();
        expect(verifyV2({ ...official, attach: '', sign: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6' }, key)).to.be.true();
    });

    it('takes an empty sign_type as MD5 and only MD5: it is not signed, and the length does not choose', () => {
        expect(Hash.sign('MD5', { ...official, sign_type: '' }, key)).to.equal('9A0A8659F005D6984697E2CA0A9CF3B7');
        expect(declaredSignType({ sign_type: '' })).to.equal('MD5');
        expect(declaredSignType({})).to.equal('absent');
        expect(declaredSignType({ sign_type: 'md5' })).to.equal('invalid');
        expect(verifyV2({ ...official, sign_type: '', sign: '9A0A8659F005D6984697E2CA0A9CF3B7' }, key)).to.be.true();
        expect(verifyV2({ ...official, sign_type: '', sign: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6' }, key)).to.be.false();
        // Without the element at all, the 64 hex of HMAC-SHA256 are recognised by their length (reference §2.7).
        expect(verifyV2({ ...official, sign: '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6' }, key)).to.be.true();
    });

    it('wants the upper-case hex, as WeChat does', () => {
        expect(signatureMatches({ ...official, sign: '9A0A8659F005D6984697E2CA0A9CF3B7' }, key, 'MD5')).to.be.true();
        expect(signatureMatches({ ...official, sign: '9a0a8659f005d6984697e2ca0a9cf3b7' }, key, 'MD5')).to.be.false();
        expect(verifyV2({ ...official, sign: '9a0a8659f005d6984697e2ca0a9cf3b7' }, key)).to.be.false();
        expect(signatureMatches(official, key, 'MD5')).to.be.false();
    });
});
