import type { PrismaClient } from '../generated/prisma/client.js'
import type { WalletStore } from '../domain/ports.js'

export function createPrismaWalletStore(db: PrismaClient): WalletStore {
  return {
    async balanceOf(userId) {
      const wallet = await db.wallet.findUnique({ where: { userId }, select: { balance: true } })
      return Number(wallet?.balance ?? 0n)
    },
  }
}
