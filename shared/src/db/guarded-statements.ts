import type * as mariadb from 'mariadb'
import { isLockWaitTimeout } from '../db-errors.js'
import { afterIoDeadline } from '../deadline.js'
import { acquire } from './acquire.js'
import { deadlineError, downError, type Guard } from './guard.js'
import { beginWait, serverAnswered } from './liveness.js'
import { aroundStatements, bindingProxy } from './statement-hooks.js'
import { describeStatement } from './statement-tracing.js'

type Method = (...args: unknown[]) => Promise<unknown>

/**
 * One statement, timed and bounded: on the deadline, or once the server is found down while it
 * waits, the connection is destroyed (the driver also KILLs the query) and the statement rejects.
 */
function guarded<T>(guard: Guard, sql: string, conn: mariadb.PoolConnection, run: () => Promise<T>): Promise<T> {
  const start = performance.now()
  let p = run()
  if (guard.deadlineMs > 0) {
    const work = p
    const { liveness, onDown } = guard.server
    beginWait(liveness)
    p = new Promise<T>((resolve, reject) => {
      let settled = false
      const settle = () => {
        if (settled) return false
        settled = true
        cancelDeadline()
        onDown.delete(wentDown)
        liveness.waiting--
        return true
      }
      const giveUp = (err: Error) => {
        if (!settle()) return
        // The statement's own promise rejects once the connection is gone: nobody waits for it now.
        work.catch(() => undefined)
        reject(err)
        conn.destroy()
      }
      // Not even max_statement_time's error came back: the server may be silent (paused, cut off).
      // An answer that came while the loop was busy settles first.
      const cancelDeadline = afterIoDeadline(guard.deadlineMs, () => {
        if (settled) return
        guard.server.suspect()
        giveUp(deadlineError(guard.deadlineMs))
      })
      const wentDown = () => giveUp(downError('the database was found down while this statement waited for its answer'))
      onDown.add(wentDown)
      work.then(
        (v) => {
          if (!settle()) return
          serverAnswered(liveness, start)
          resolve(v)
        },
        (err: unknown) => {
          if (!settle()) return
          serverAnswered(liveness, start, err)
          reject(err)
        },
      )
    })
  }
  if (!guard.observe) return p
  const observe = guard.observe
  const done = (gaveUpOnLock: boolean) => {
    const { operation, ownLockWait } = describeStatement(sql)
    observe(operation, (performance.now() - start) / 1000, gaveUpOnLock && !ownLockWait)
  }
  return p.then(
    (v) => {
      done(false)
      return v
    },
    (err: unknown) => {
      done(isLockWaitTimeout(err))
      throw err
    },
  )
}

/**
 * The pool with every statement bounded and timed, on lent connections and on the pool itself
 * (whose query/execute/batch borrow a connection here, so that a silent server's connection can be
 * dropped). Prisma's adapter runs on this layer; tracePool adds spans on top for everything else.
 */
export function guardedPool(pool: mariadb.Pool, guard: Guard, onEnd: () => void): mariadb.Pool {
  const getConnection = async () => {
    const conn = await acquire(pool, guard)
    return aroundStatements(conn, (sql, run) => guarded(guard, sql, conn, run))
  }
  const onConnection =
    (method: 'query' | 'execute' | 'batch') =>
    async (sql: unknown, values?: unknown): Promise<unknown> => {
      if (guard.deadlineMs === 0 && !guard.observe) return (pool[method] as Method).call(pool, sql, values)
      const conn = await getConnection()
      try {
        return await (conn[method] as Method).call(conn, sql, values)
      } finally {
        // A connection that died is dropped by release too; either way its turn comes back.
        await conn.release().catch(() => undefined)
      }
    }
  const end = () => {
    onEnd()
    return pool.end()
  }
  const overrides: Record<PropertyKey, unknown> = { getConnection, query: onConnection('query'), execute: onConnection('execute'), batch: onConnection('batch'), end }
  return bindingProxy(pool, overrides)
}
