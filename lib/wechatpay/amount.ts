/** WeChat Pay's total_fee is a signed 32-bit integer of fen, and a payment of 0 fen is refused. */
export const maxTotalFee = 2 ** 31 - 1;

export function isPayableTotal(fen: number): boolean {
    return Number.isSafeInteger(fen) && fen >= 1 && fen <= maxTotalFee;
}
