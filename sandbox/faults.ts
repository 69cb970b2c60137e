export type FaultKind = 'errcode' | 'http500' | 'timeout' | 'badsign';

export interface Fault {
    kind: FaultKind;
    /** For `errcode`: the WeChat error code (jscode2session) or err_code (Pay v2) to answer with. */
    code?: string | number;
    /** For `timeout`: how long to hold the request before answering. */
    delayMs?: number;
}

/**
 * Faults armed for the next calls of one endpoint (`POST /__sim/faults`), taken first in, first out.
 */
export class FaultBook {
    private readonly armed = new Map<string, Fault[]>();

    arm(endpoint: string, fault: Fault, times = 1): void {
        const queue = this.armed.get(endpoint) ?? [];
        for (let i = 0; i < times; ++i) {
            queue.push(fault);
        }

        this.armed.set(endpoint, queue);
    }

    take(endpoint: string): Fault | undefined {
        return this.armed.get(endpoint)?.shift();
    }

    clear(): void {
        this.armed.clear();
    }
}
