import { isDuplicateKey } from '@tickets/shared/db-errors'
import { Rollback, withTransaction } from '@tickets/shared/transaction'
import type { Pool, PoolConnection } from 'mariadb'
import { uuidv7 } from 'uuidv7'
import type { WalletStore } from '../domain/ports.js'

interface Affected {
  affectedRows: number
}

export async function walletBalance(conn: Pool | PoolConnection, userId: string): Promise<number> {
  const rows = await conn.query<{ balance: bigint }[]>('SELECT balance FROM wallets WHERE user_id = ?', [userId])
  return Number(rows[0]?.balance ?? 0n)
}

/**
 * Balance changes are single conditional UPDATEs (the row lock is the only lock a charge, a payment
 * or a refund takes on the wallet), each paired with its ledger entry in the same transaction, so
 * that a balance is always the sum of its ledger and never negative.
 */
export function createMariadbWalletStore(pool: Pool): WalletStore {
  return {
    balanceOf: (userId) => walletBalance(pool, userId),

    async chargePoints({ userId, amount, reference, maxBalance }) {
      // A wallet row exists before the transaction: creating it inside would take a shared lock
      // on a duplicate and deadlock against a concurrent charge upgrading the same row.
      await pool.query('INSERT IGNORE INTO wallets (user_id, balance) VALUES (?, 0)', [userId])
      const outcome = await withTransaction<{ balance: number } | 'BALANCE_LIMIT' | 'ALREADY_CHARGED'>(pool, async (conn) => {
        const credited = await conn.query<Affected>('UPDATE wallets SET balance = balance + ?, updated_at = NOW(3) WHERE user_id = ? AND balance + ? <= ?', [
          amount,
          userId,
          amount,
          maxBalance,
        ])
        if (credited.affectedRows !== 1) return new Rollback('BALANCE_LIMIT' as const)
        try {
          await conn.query("INSERT INTO ledger_entries (id, user_id, kind, amount, reference) VALUES (?, ?, 'CHARGE', ?, ?)", [uuidv7(), userId, amount, reference])
        } catch (err) {
          // The same request ran before (a retry after a crash): its credit stands, this one rolls back.
          if (isDuplicateKey(err)) return new Rollback('ALREADY_CHARGED' as const)
          throw err
        }
        return { balance: await walletBalance(conn, userId) }
      })
      if (outcome === 'BALANCE_LIMIT') return { ok: false, reason: 'BALANCE_LIMIT', balance: await walletBalance(pool, userId) }
      if (outcome === 'ALREADY_CHARGED') return { ok: true, balance: await walletBalance(pool, userId) }
      return { ok: true, balance: outcome.balance }
    },
  }
}
