import type { Lifecycle, ServerRoute } from '@hapi/hapi';

import { declaredSignType, Params, signatureMatches, signV2, SignType } from '../lib/wechatpay/sign';
import { parseFlatXml, toXml } from '../lib/wechatpay/xml';

import type { Fault, FaultBook } from './faults';
import * as Ids from './ids';
import type { SandboxOptions } from './options';
import type { Waits } from './waits';

/**
 * The API v2 envelope shared by every XML endpoint (reference §2.1): parse, check the merchant and the signature,
 * answer with the two-level status, sign the answer with the request's sign_type, and play armed faults.
 */

export type Fields = Record<string, string>;

/** A business failure: `result_code=FAIL` with err_code and err_code_des, in a signed answer. */
export class BusinessError extends Error {
    constructor(readonly errCode: string, readonly des: string) {
        super(`${errCode}: ${des}`);
    }
}

export interface V2Request {
    fields: Fields;
    signType: SignType;
}

export type V2Handler = (request: V2Request) => Params;

export interface EnvelopeContext {
    options: SandboxOptions;
    faults: FaultBook;
    waits: Waits;
}

const faultDescriptions: Record<string, string> = {
    SYSTEMERROR: '系统超时',
    NOTENOUGH: '余额不足',
    NOAUTH: '商户无此接口权限'
};

/** The signature a forger without the API key would produce: well formed, and it does not verify. */
export function forgedSign(params: Params, key: string, signType: SignType): string {
    return signV2(params, `${key}-forged`, signType);
}

export function signAnswer(params: Params, key: string, signType: SignType, forge = false): Params {
    return { ...params, sign: (forge ? forgedSign : signV2)(params, key, signType) };
}

export function v2Route(path: string, endpoint: string, context: EnvelopeContext, handle: V2Handler): ServerRoute {
    const handler: Lifecycle.Method = async (request, h) => {
        const fault = context.faults.take(endpoint);
        if (fault?.kind === 'http500') {
            return h.response('<html><head><title>500 Internal Server Error</title></head><body><h1>500 Internal Server Error</h1></body></html>')
                .type('text/html')
                .code(500);
        }

        const answer = await respond(request.payload as Buffer, context.options, fault, handle);
        // A timeout still does the work; only the answer is late, so the merchant must find out what happened.
        if (fault?.kind === 'timeout') {
            await context.waits.sleep(fault.delayMs ?? 10_000);
        }

        return h.response(toXml(answer)).type('text/xml');
    };

    return {
        method: 'POST',
        path,
        options: {
            description: `WeChat Pay API v2 ${path}`,
            tags: ['sandbox'],
            payload: { parse: false, output: 'data' }
        },
        handler
    };
}

async function respond(raw: Buffer, options: SandboxOptions, fault: Fault | undefined, handle: V2Handler): Promise<Params> {
    if (raw.length === 0) {
        return failure('post数据为空');
    }

    let fields: Fields;
    try {
        fields = await parseFlatXml(raw);
    }
    catch {
        return failure('XML格式错误');
    }

    // A request checks with the algorithm it names, MD5 when it names none (and when its sign_type is empty).
    const declared = declaredSignType(fields);
    if (declared === 'invalid') {
        return failure('sign_type参数错误');
    }

    const signType: SignType = declared === 'absent' ? 'MD5' : declared;

    const signed = (answer: Params) => signAnswer(
        { return_code: 'SUCCESS', return_msg: 'OK', appid: fields.appid, mch_id: fields.mch_id, nonce_str: Ids.nonce(), ...answer },
        options.apiKey,
        signType,
        fault?.kind === 'badsign'
    );

    try {
        checkMerchant(fields, options.mchId);
        // WeChat wants the upper-case hex: a lower-case signature is refused.
        if (!signatureMatches(fields, options.apiKey, signType)) {
            return failure('签名错误');
        }

        checkAppId(fields, options.appId);
        if (!fields.nonce_str) {
            throw new BusinessError('LACK_PARAMS', '缺少参数nonce_str');
        }

        if (fault?.kind === 'errcode') {
            const code = String(fault.code ?? 'SYSTEMERROR');
            throw new BusinessError(code, faultDescriptions[code] ?? 'simulated error');
        }

        return signed({ result_code: 'SUCCESS', ...handle({ fields, signType }) });
    }
    catch (err) {
        // Anything but a BusinessError is a bug in the simulator: let hapi answer 500.
        // $lab:coverage:off$
        if (!(err instanceof BusinessError)) {
            throw err;
        }
        // $lab:coverage:on$

        return signed({ result_code: 'FAIL', err_code: err.errCode, err_code_des: err.des });
    }
}

/** A communication-level failure: `return_code=FAIL`, unsigned, nothing else (reference §2.1). */
function failure(message: string): Params {
    return { return_code: 'FAIL', return_msg: message };
}

function checkMerchant(fields: Fields, mchId: string): void {
    if (!fields.mch_id) {
        throw new BusinessError('LACK_PARAMS', '缺少参数mch_id');
    }

    if (fields.mch_id !== mchId) {
        throw new BusinessError('MCHID_NOT_EXIST', '商户号mch_id不存在');
    }
}

function checkAppId(fields: Fields, appId: string): void {
    if (!fields.appid) {
        throw new BusinessError('LACK_PARAMS', '缺少参数appid');
    }

    if (fields.appid === appId) {
        return;
    }

    // One simulated merchant has one appid: a well-formed appid is taken to be another app's, a malformed one to exist nowhere.
    if (/^wx[0-9a-f]{16}$/.test(fields.appid)) {
        throw new BusinessError('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
    }

    throw new BusinessError('APPID_NOT_EXIST', 'appid不存在');
}
