import { PayError } from '../client';

/**
 * A v3 call that gave no answer to act on, as the same PayError the v2 client throws. `errCode` uses the v2 spelling
 * where v2 has the same refusal (ORDER_CLOSED is ORDERCLOSED...), so callers recognise one set of codes;
 * `code` and `status` keep what v3 said.
 */
export class PayV3Error extends PayError {
    constructor(transient: boolean, errCode: string | undefined, message: string, readonly status?: number, readonly code?: string) {
        super(transient, errCode, message);
        this.name = 'PayV3Error';
    }
}

const v2Spelling: Record<string, string> = {
    ORDER_CLOSED: 'ORDERCLOSED',
    ORDER_NOT_EXIST: 'ORDERNOTEXIST',
    SYSTEM_ERROR: 'SYSTEMERROR',
    NO_AUTH: 'NOAUTH',
    NOT_ENOUGH: 'NOTENOUGH'
};

const retryableCodes = new Set(['SYSTEM_ERROR', 'SERVICE_UNAVAILABLE', 'BANK_ERROR']);

/**
 * A verified 4xx/5xx with WeChat's `{code, message}` (reference §3.11). SYSTEM_ERROR-like codes and 5xx answers
 * without a code are worth another try; a business refusal is not, 500 OPENID_MISMATCH included.
 */
export function errorFromAnswer(path: string, status: number, code: string | undefined, message: string | undefined): PayV3Error {
    const transient = code === undefined ? status >= 500 || status === 429 : retryableCodes.has(code);
    return new PayV3Error(transient, code === undefined ? undefined : v2Spelling[code] ?? code, `${path} answered HTTP ${status} ${code ?? ''}: ${message ?? ''}`.trim(), status, code);
}
