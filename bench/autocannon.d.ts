// The slice of autocannon 8's programmatic API the benchmarks use (the package ships no types).
declare module 'autocannon' {
    import type { EventEmitter } from 'events';

    namespace autocannon {
        interface Request {
            method?: string;
            path?: string;
            headers?: Record<string, string>;
            body?: string | Buffer;
        }

        interface RequestTemplate extends Request {
            setupRequest?: (request: Request, context: Record<string, unknown>) => Request | null | undefined;
            onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
        }

        interface Options {
            url: string;
            connections?: number;
            duration?: number;
            amount?: number;
            timeout?: number;
            method?: string;
            headers?: Record<string, string>;
            body?: string | Buffer;
            requests?: RequestTemplate[];
            expectBody?: string;
            verifyBody?: (body: string) => boolean;
        }

        interface Histogram {
            average: number;
            mean: number;
            stddev: number;
            min: number;
            max: number;
            total: number;
            p50: number;
            p90: number;
            p97_5: number;
            p99: number;
        }

        interface Result {
            requests: Histogram;
            latency: Histogram;
            duration: number;
            errors: number;
            timeouts: number;
            mismatches: number;
            non2xx: number;
            resets: number;
            statusCodeStats: Record<string, { count: number }>;
        }

        interface Instance extends EventEmitter, PromiseLike<Result> {
            stop(): void;
        }
    }

    function autocannon(options: autocannon.Options): autocannon.Instance;
    export = autocannon;
}
