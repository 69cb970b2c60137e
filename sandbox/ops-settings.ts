/**
 * The knobs of the simulator's mini-program server APIs (tokens, shipping management, push, subscribe messages),
 * changed by name with `POST /__sim/ops/settings`. Every default is WeChat's strict behaviour.
 */
export interface OpsSettings {
    /** How long a /cgi-bin/token token survives its successor (WeChat: up to 5 minutes). */
    tokenGraceSeconds: number;
    /** Lifetime of a token (WeChat: 7200 s). */
    tokenTtlSeconds: number;
    /** A payment is unknown to the shipping APIs (10060001) for this long after it was paid (WeChat: about a minute). */
    shippingSyncLagSeconds: number;
    /** is_trade_managed; false makes every shipping API answer 48001. */
    tradeManaged: boolean;
    /** Automatic receipt confirmation after shipping, on the simulator's clock (reference §2.13). */
    autoConfirmExpressDays: number;
    autoConfirmOtherDays: number;
    /** From receipt confirmed (state 3) to settled (4). */
    settlementDelaySeconds: number;
    /** Push delivery: how many attempts in all (WeChat: 3), and the wait for a reply (5 s). */
    pushAttempts: number;
    pushTimeoutMs: number;
}

export function initialOpsSettings(): OpsSettings {
    return {
        tokenGraceSeconds: 300,
        tokenTtlSeconds: 7200,
        shippingSyncLagSeconds: 60,
        tradeManaged: true,
        autoConfirmExpressDays: 10,
        autoConfirmOtherDays: 2,
        settlementDelaySeconds: 0,
        pushAttempts: 3,
        pushTimeoutMs: 5000
    };
}
