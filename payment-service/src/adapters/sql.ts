import { connectionFrom } from '@tickets/shared/mysql'
import type { Pool, PoolConnection } from 'mariadb'

const DEADLOCK = 1213
const DUPLICATE_KEY = 1062

export function isDuplicateKey(err: unknown): boolean {
  return (err as { errno?: number }).errno === DUPLICATE_KEY
}

/** The unique index a duplicate-key error names, e.g. `payments_standing_reservation_id_key`. */
export function duplicateKeyName(err: unknown): string | undefined {
  return /for key '(?:[^.']*\.)?([^']+)'/.exec((err as Error).message)?.[1]
}

/**
 * Runs `fn` in one transaction on one connection. InnoDB may pick this transaction as a deadlock
 * victim when charges, payments and refunds touch the same wallet row: that rolled back, so it is
 * safe to run again, a few times. A lock wait timeout is not retried (the lock is still held; a
 * second wait only holds the connection longer) and, like a database that cannot be reached,
 * reaches the client as a 503 with Retry-After (@tickets/shared/db-errors).
 */
export async function withTransaction<T>(pool: Pool, fn: (conn: PoolConnection) => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const conn = await connectionFrom(pool)
    try {
      // BEGIN goes out with the first statement (the connection pipelines them in order): a round trip less.
      const [began, work] = await Promise.allSettled([conn.beginTransaction(), fn(conn)])
      if (began.status === 'rejected') throw began.reason
      if (work.status === 'rejected') throw work.reason
      await conn.commit()
      return work.value
    } catch (err) {
      await conn.rollback().catch(() => undefined)
      const errno = (err as { errno?: number }).errno
      if (errno === DEADLOCK && attempt < attempts) continue
      throw err
    } finally {
      await conn.release()
    }
  }
}

/** Thrown inside a transaction to roll it back and hand a business outcome to the caller. */
export class Rollback<T> extends Error {
  constructor(readonly outcome: T) {
    super('rollback')
  }
}

/** `R`: the outcomes `fn` may hand over by throwing `Rollback` (TypeScript cannot infer them). */
export async function withTransactionOutcome<T, R>(pool: Pool, fn: (conn: PoolConnection) => Promise<T>): Promise<T | R> {
  try {
    return await withTransaction(pool, fn)
  } catch (err) {
    if (err instanceof Rollback) return err.outcome as R
    throw err
  }
}
