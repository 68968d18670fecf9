import type { Pool, PoolConnection } from 'mariadb'
import { AppError } from '@tickets/contracts/errors'
import { databaseUnavailable, isDeadlock } from './db-errors.js'
import { connectionFrom } from './db/pool.js'

/**
 * Returned (not thrown) by a transaction's work to roll it back and hand `value` to the caller: a
 * business refusal is an answer, not a failure, and returning it keeps its type in the signature.
 */
export class Rollback<T> {
  // A non-public member makes the type nominal: an outcome that has a `value` field is not a Rollback.
  protected readonly rollback = true
  constructor(readonly value: T) {}
}

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE'

export interface TransactionOptions {
  /**
   * READ COMMITTED by default: a locking read or conditional UPDATE sees the latest committed row
   * (no snapshot to fight with), and no gap locks are taken, so inserts (outbox, processed events)
   * never wait on another transaction's scan.
   */
  isolation?: IsolationLevel
  /** Runs in all, counting the first, when InnoDB picks this transaction as a deadlock victim. */
  attempts?: number
}

/**
 * Runs `fn` in one transaction on one pooled connection and commits, or rolls back when `fn`
 * returns a `Rollback` (its value is the result) or throws.
 *
 * A deadlock victim runs again (InnoDB already rolled it back), up to `attempts` times, then it is a
 * 503 with Retry-After: contention the caller may retry, not a fault. A lock wait timeout does not run again: the
 * lock is still held by someone, and waiting again would only keep a pooled connection longer. That,
 * no connection free within the pool's acquireTimeout, or a database that does not answer, ends as
 * a 503 with Retry-After (db-errors), never a 500 and never a longer wait.
 *
 * The isolation level, START TRANSACTION and the first statement of `fn` leave in one pipelined
 * write (the driver keeps their order), which saves two round trips on the hot paths.
 *
 * The transaction runs with autocommit off, so that `fn` may pipeline writes safely: when InnoDB
 * rolls the transaction back in the middle of a pipeline (a deadlock victim), the statements already
 * sent behind the failed one would otherwise each commit on their own (a debit, an outbox event of a
 * payment that never happened). With autocommit off they open a new transaction, which the ROLLBACK
 * here discards. Autocommit is on again, in the same round trip as COMMIT or ROLLBACK.
 */
export async function withTransaction<T>(pool: Pool, fn: (conn: PoolConnection) => Promise<T | Rollback<T>>, options: TransactionOptions = {}): Promise<T> {
  const isolation = options.isolation ?? 'READ COMMITTED'
  const attempts = options.attempts ?? 4
  for (let attempt = 1; ; attempt++) {
    const conn = await connectionFrom(pool)
    try {
      const setup = Promise.all([conn.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`), conn.query('SET autocommit = 0'), conn.beginTransaction()])
      const [ready, work] = await Promise.allSettled([setup, fn(conn)])
      if (ready.status === 'rejected') throw ready.reason
      if (work.status === 'rejected') throw work.reason
      const result = work.value
      if (result instanceof Rollback) {
        await end(conn, 'rollback')
        return result.value
      }
      await end(conn, 'commit')
      return result
    } catch (err) {
      await end(conn, 'rollback').catch(() => conn.destroy())
      if (isDeadlock(err)) {
        if (attempt < attempts) continue
        throw new AppError('COMMON_OVERLOADED', 'The database kept picking this change as a deadlock victim; retry shortly', { cause: err, headers: { 'retry-after': '1' } })
      }
      throw databaseUnavailable(err) ?? err
    } finally {
      // A connection dropped on a statement deadline cannot go back; the original error matters more.
      await conn.release().catch(() => undefined)
    }
  }
}

/**
 * COMMIT or ROLLBACK, and autocommit back on for whoever borrows the connection next (pipelined: one
 * round trip). COMMIT stays explicit although turning autocommit on would commit too: after that
 * implicit commit MariaDB 10.11 keeps the one-shot isolation level for the connection's next
 * transaction (measured 2026-12-07: READ UNCOMMITTED leaked into it; after COMMIT it did not).
 */
async function end(conn: PoolConnection, how: 'commit' | 'rollback'): Promise<void> {
  await Promise.all([how === 'commit' ? conn.commit() : conn.rollback(), conn.query('SET autocommit = 1')])
}
