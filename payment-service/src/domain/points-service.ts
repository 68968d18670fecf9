import { AppError } from '@tickets/contracts/errors'
import { derivedId } from './ids.js'
import type { WalletStore } from './ports.js'

export const MIN_CHARGE = 1
export const MAX_CHARGE = 10_000_000

export interface PointsDeps {
  wallets: WalletStore
  maxBalance: number
}

export function createPointsService({ wallets, maxBalance }: PointsDeps) {
  return {
    balance: (userId: string) => wallets.balanceOf(userId),

    /** `requestKey` names this use of an Idempotency-Key: a re-run after a crash credits once. */
    async charge(input: { userId: string; amount: number; requestKey: string }) {
      const { userId, amount } = input
      if (!Number.isInteger(amount) || amount < MIN_CHARGE || amount > MAX_CHARGE) {
        throw new AppError('PAYMENT_AMOUNT_OUT_OF_RANGE', `A charge is ${MIN_CHARGE} to ${MAX_CHARGE} points`)
      }
      const result = await wallets.chargePoints({ userId, amount, reference: derivedId('charge', userId, input.requestKey), maxBalance })
      if (!result.ok) {
        throw new AppError('PAYMENT_BALANCE_LIMIT', `A balance may not exceed ${maxBalance} points (now ${result.balance})`, {
          extra: { balance: result.balance, maxBalance },
        })
      }
      return { balance: result.balance }
    },
  }
}
export type PointsService = ReturnType<typeof createPointsService>
