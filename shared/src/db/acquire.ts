import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type * as mariadb from 'mariadb'
import { currentClaim, type Turn } from '../connection-line.js'
import { databaseTrouble } from '../db-errors.js'
import { downError, poolBusy, type Guard } from './guard.js'
import { beginWait } from './liveness.js'
import { dbTracer } from './statement-tracing.js'

/**
 * New work (a request's first connection) that expects to wait longer than this share of the
 * acquire timeout is refused at once: the rest is for its statements and its later steps, which go
 * before new work, and a refusal still reaches the caller within a failure's 250-ms bound (why a
 * fifth: docs/decisions/database-pool-answers-at-once.md).
 */
const NEW_WORK_SHARE = 0.2

/**
 * A connection: first a turn in the line (connection-line: work under way first, new work refused
 * at once when it could not be served in time), then pool.getConnection() within what is left of
 * the wait. The pool's own acquireTimeout counts only the wait in its queue: before that it pings
 * each idle connection it would lend (up to pingTimeout each), seconds in all against a paused
 * server. With a turn in hand, no connection within the whole
 * acquire timeout, or a connection error, means the server cannot be reached: the guard then
 * answers the next callers at once.
 */
export async function acquire(pool: mariadb.Pool, guard: Guard): Promise<mariadb.PoolConnection> {
  if (guard.server.down) throw downError('the database is down (a probe asks again every second); not asked')
  const claim = currentClaim()
  const underWay = claim?.underWay ?? false
  const enteredAt = performance.now()
  const waitMs = Math.min(guard.acquireTimeoutMs, claim?.until === undefined ? Infinity : claim.until - enteredAt)
  let turn: Turn
  try {
    // New work waits no longer than its share: past that, it would answer too late anyway.
    turn = await guard.line.enter({ underWay, waitMs: underWay ? waitMs : Math.min(waitMs, guard.acquireTimeoutMs * NEW_WORK_SHARE) })
  } catch (err) {
    recordWait(guard, enteredAt, performance.now(), underWay, err)
    if (guard.server.down) throw downError('the database was found down while this caller waited for a connection')
    throw poolBusy(guard, (err as Error).message)
  }
  const turnAt = performance.now()
  try {
    const conn = await connect(pool, guard, waitMs - (turnAt - enteredAt))
    turn.lent()
    recordWait(guard, enteredAt, turnAt, underWay)
    // Admitted: the rest of this request is work under way.
    if (claim) claim.underWay = true
    return lendOnce(conn, turn)
  } catch (err) {
    turn.giveBack()
    recordWait(guard, enteredAt, turnAt, underWay, err)
    throw err
  }
}

/**
 * A span for a caller that waited for a connection (a millisecond or more), in the trace of the
 * request that waited: an exhausted pool shows in the waterfall as this gap before each
 * statement, with how much of it was the line and how much the driver making a connection.
 */
function recordWait(guard: Guard, enteredAt: number, turnAt: number, underWay: boolean, err?: unknown): void {
  const now = performance.now()
  if (now - enteredAt < 1 || !trace.getSpan(context.active())?.isRecording()) return
  const span = dbTracer.startSpan(`wait for connection ${guard.database}`, {
    kind: SpanKind.INTERNAL,
    startTime: performance.timeOrigin + enteredAt,
    // No db.system: this is the pool's wait, not a statement (queries that count statements stay exact).
    attributes: {
      'db.pool.database': guard.database,
      'db.pool.line_ms': Math.round(turnAt - enteredAt),
      'db.pool.connect_ms': Math.round(now - turnAt),
      'db.pool.under_way': underWay,
    },
  })
  if (err !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message })
  span.end(performance.timeOrigin + now)
}

/** The driver's connection for a caller holding a turn: within `waitMs`, and at once if the server is found down meanwhile. */
function connect(pool: mariadb.Pool, guard: Guard, waitMs: number): Promise<mariadb.PoolConnection> {
  const timeoutMs = guard.acquireTimeoutMs
  const { server } = guard
  // The whole acquire timeout passed while a turn was in hand: the server is the trouble. A caller's
  // own shorter time proves nothing (the stall check watches this wait like any other).
  const unreachable = (waitedMs: number) => {
    if (waitedMs < timeoutMs) return poolBusy(guard, `no database connection within the caller's ${Math.round(waitedMs)} ms`)
    server.markDown()
    return downError(`no database connection could be made within ${timeoutMs} ms`)
  }
  const startedAt = performance.now()
  beginWait(server.liveness)
  return new Promise((resolve, reject) => {
    let late = false
    const settle = () => {
      late = true
      clearTimeout(timer)
      server.onDown.delete(wentDown)
      server.liveness.waiting--
    }
    const timer = setTimeout(
      () => {
        settle()
        reject(unreachable(performance.now() - startedAt))
      },
      Math.max(0, waitMs),
    )
    const wentDown = () => {
      settle()
      reject(downError('the database was found down while this caller waited for a connection'))
    }
    server.onDown.add(wentDown)
    pool.getConnection().then(
      (conn) => {
        // Nobody waits for it any more: back to the pool.
        if (late) void conn.release().catch(() => undefined)
        else {
          settle()
          resolve(conn)
        }
      },
      (err: unknown) => {
        if (late) return
        settle()
        const trouble = databaseTrouble(err)
        if (trouble === 'down') server.markDown()
        // The pool's own timeout (it may fire before ours) is the same verdict as ours.
        reject(trouble === 'busy' ? unreachable(performance.now() - startedAt) : err)
      },
    )
  })
}

/** The connection gives its turn back once, however it leaves the caller: released, ended or destroyed. */
function lendOnce(conn: mariadb.PoolConnection, turn: Turn): mariadb.PoolConnection {
  const c = conn as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const method of ['release', 'end', 'destroy'] as const) {
    const original = c[method]!
    c[method] = (...args: unknown[]) => {
      turn.giveBack()
      return original.apply(conn, args)
    }
  }
  return conn
}
