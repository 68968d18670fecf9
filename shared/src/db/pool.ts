import * as mariadb from 'mariadb'
import { createConnectionLine } from '../connection-line.js'
import { databaseTrouble, databaseUnavailable } from '../db-errors.js'
import { DEPENDENCY_BUSY } from '../health.js'
import { driverTls, parseMysqlUrl } from '../migrate.js'
import { guardOf, keepGuard, type Guard } from './guard.js'
import { guardedPool } from './guarded-statements.js'
import { watchServer } from './liveness.js'
import { tracePool } from './statement-tracing.js'

export interface PoolSettings {
  url: string
  connectionLimit: number
  /**
   * How long a caller waits for a free connection before the pool gives up (a 503, see db-errors).
   * New work that would expect to wait more than a fifth of it is refused at once (NEW_WORK_SHARE).
   */
  acquireTimeoutMs: number
  /**
   * New callers that may wait for a connection while every one is lent out; the next is refused at
   * once (a 503, see db-errors). Absent: twice connectionLimit. Work under way is not counted. A
   * line longer than the pool can serve within the acquire timeout only turns fast refusals into
   * slow ones.
   */
  maxWaiting?: number
  /**
   * Bound on every statement: MariaDB's session max_statement_time kills one that runs longer, and
   * the client stops waiting (and drops the connection) STATEMENT_GRACE_MS after that, for a server
   * that does not answer at all (paused, cut off). 0 or absent: unbounded (ops scripts, migrations).
   */
  statementTimeoutMs?: number
  /** The sessions' innodb_lock_wait_timeout in seconds (the server's default is 50). */
  lockWaitTimeoutSeconds?: number
  /** The sessions' lock_wait_timeout in seconds, for table and metadata locks (0: none; the server's default is a day). */
  tableLockWaitSeconds?: number
}

/** Past the server's own max_statement_time, how long the client still waits for its answer. */
const STATEMENT_GRACE_MS = 250

/**
 * The service's one MariaDB pool: Prisma's adapter runs on it, hot paths run single statements on
 * it directly, and its counters feed the pool metrics. How it answers when it cannot serve:
 * docs/decisions/database-pool-answers-at-once.md.
 */
export function createPool(settings: PoolSettings): mariadb.Pool {
  const t = parseMysqlUrl(settings.url)
  const session: string[] = []
  if (settings.statementTimeoutMs) session.push(`max_statement_time = ${settings.statementTimeoutMs / 1000}`)
  if (settings.lockWaitTimeoutSeconds) session.push(`innodb_lock_wait_timeout = ${Math.max(1, Math.round(settings.lockWaitTimeoutSeconds))}`)
  if (settings.tableLockWaitSeconds !== undefined) session.push(`lock_wait_timeout = ${Math.max(0, Math.round(settings.tableLockWaitSeconds))}`)
  const pool = mariadb.createPool({
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database: t.database,
    ...driverTls(t),
    connectionLimit: settings.connectionLimit,
    acquireTimeout: settings.acquireTimeoutMs,
    connectTimeout: 2_000,
    minDelayValidation: 200,
    prepareCacheLength: 0,
    bigIntAsNumber: false,
    insertIdAsNumber: true,
    decimalAsNumber: false,
    dateStrings: false,
    ...(session.length > 0 ? { initSql: `SET SESSION ${session.join(', ')}` } : {}),
    // The check of an idle connection is one round trip: on a link slower than the driver's default
    // (250 ms) every idle connection would be thrown away and the database called down.
    // (The driver reads this option; its type declarations leave it out.)
    ...{ pingTimeout: 500 },
  })
  const line = createConnectionLine(settings.connectionLimit, settings.maxWaiting ?? 2 * settings.connectionLimit)
  const server = watchServer({
    acquireTimeoutMs: settings.acquireTimeoutMs,
    watchStalls: !!settings.statementTimeoutMs,
    connectOwn: () => mariadb.createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, connectTimeout: settings.acquireTimeoutMs, ...driverTls(t) }),
    fromPool: () => pool.getConnection(),
    onFoundDown: () => line.refuseAll('the database was found down while this caller waited for a connection'),
  })
  // The pool listens for a connection's first error only; a second fatal event on the same
  // connection (its socket ending after MariaDB went away) is then thrown and would crash the
  // process. The pool already drops and replaces a failed connection: the later events are noise.
  // A connection lost to the network or a shutdown makes the server a suspect (ServerWatch.suspect).
  pool.on('connection', (conn) => {
    ;(conn as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => {
      if (databaseTrouble(err) === 'down') server.suspect()
    })
  })
  const guard: Guard = {
    deadlineMs: settings.statementTimeoutMs ? settings.statementTimeoutMs + STATEMENT_GRACE_MS : 0,
    acquireTimeoutMs: settings.acquireTimeoutMs,
    database: t.database,
    line,
    server,
    busyRefusals: 0,
  }
  const guarded = guardedPool(pool, guard, () => server.stop())
  const traced = tracePool(guarded, { database: t.database, host: t.host, port: t.port })
  keepGuard(traced, guard)
  return traced
}

/**
 * A connection for a transaction. None free within the pool's acquireTimeout, or a database that
 * cannot be reached, is a 503 with Retry-After for the client to come back (db-errors), never a 500.
 */
export async function connectionFrom(pool: mariadb.Pool): Promise<mariadb.PoolConnection> {
  try {
    return await pool.getConnection()
  } catch (err) {
    throw databaseUnavailable(err) ?? err
  }
}

/**
 * The database's dependency check, which never takes a connection that work waits for: a pool that
 * found the server down says so without asking; one whose connections are all lent out, or with
 * callers in its line, is BUSY (in use, so the server answers; if it hangs, the pool's own stall watch finds it
 * down); otherwise one idle connection runs SELECT 1.
 */
export async function checkPool(pool: mariadb.Pool): Promise<void | typeof DEPENDENCY_BUSY> {
  const guard = guardOf(pool)
  if (guard?.server.down) throw new Error('the pool found the database down; it asks again every second')
  const allLent = pool.idleConnections() === 0 && pool.activeConnections() > 0
  if (allLent || pool.taskQueueSize() > 0 || (guard?.line.waiting() ?? 0) > 0) return DEPENDENCY_BUSY
  await pool.query('SELECT 1')
}

const FILL_POLL_MS = 10

/**
 * Waits until the pool holds `connections` connections, or `withinMs` passed (a database that is
 * down or slow to take connections: the service starts anyway, and its callers wait or get 503s as
 * they would). Returns how many it holds. The driver makes its connections one after another, each
 * several round trips: on a slow link, a service that took work at once would serve it with one.
 */
export async function fillPool(pool: mariadb.Pool, connections: number, withinMs: number): Promise<number> {
  const deadline = performance.now() + withinMs
  while (pool.totalConnections() < connections && performance.now() < deadline) await new Promise((r) => setTimeout(r, FILL_POLL_MS))
  return pool.totalConnections()
}
