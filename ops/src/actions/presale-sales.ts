import type { PresaleCodeState } from '@tickets/contracts/presale'

export interface SalesLine {
  buyers: number
  seats: number
  amount: number
}

export interface SalesSplit {
  /** Buyers who joined with a presale code (a place in the presale line). */
  presale: SalesLine
  /** Buyers who joined with a bypass code (admitted at once). */
  bypass: SalesLine
  general: SalesLine
  /** Fans who redeemed a code, bought or not. */
  redeemed: number
}

/** A concert's confirmed sales, each buyer counted where the code they redeemed (if any) put them. */
export function splitSales(
  sales: readonly { userId: string; seats: number; amount: number }[],
  codes: readonly PresaleCodeState[],
  redeemers: Readonly<Record<string, string>>,
): SalesSplit {
  const bypassCodes = new Set(codes.filter((c) => c.bypass).map((c) => c.codeHash))
  const empty = (): SalesLine => ({ buyers: 0, seats: 0, amount: 0 })
  const split: SalesSplit = { presale: empty(), bypass: empty(), general: empty(), redeemed: Object.keys(redeemers).length }
  for (const sale of sales) {
    const code = redeemers[sale.userId]
    const line = code === undefined ? split.general : bypassCodes.has(code) ? split.bypass : split.presale
    line.buyers++
    line.seats += sale.seats
    line.amount += sale.amount
  }
  return split
}
