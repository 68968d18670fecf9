import type { WalletStore } from './ports.js'

export function createPointsService({ wallets }: { wallets: WalletStore }) {
  return {
    balance: (userId: string) => wallets.balanceOf(userId),
  }
}
export type PointsService = ReturnType<typeof createPointsService>
