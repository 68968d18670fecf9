import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api'
import * as mariadb from 'mariadb'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { DB_DEADLINE, DB_UNREACHABLE, databaseTrouble, databaseUnavailable, isLockWaitTimeout } from './db-errors.js'
import { driverTls, parseMysqlUrl } from './migrate.js'
import { createConnectionLine, currentClaim, type ConnectionLine, type Turn } from './connection-line.js'
import { afterIoDeadline } from './deadline.js'
import { DEPENDENCY_BUSY } from './health.js'

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
   * slow ones (drill 3.2.3).
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
 * Once the server gave no connection (refused, or none could be made within the acquire timeout) or
 * did not answer a statement at all, every caller is answered at once (a 1 s wait per request while
 * MariaDB was down; drill 3.2.1) and a background probe asks the pool for a connection every
 * DOWN_RETRY_MS until one comes: no request pays for finding out whether it is back.
 */
const DOWN_RETRY_MS = 1_000
const POOL_CLOSED = 45027

/**
 * A stall: work waited on the server (a connection or a statement) and nothing at all was answered
 * for STALL_FACTOR × the usual answer time (at least STALL_MIN_MS). A hung server (SIGSTOP, a frozen
 * VM) accepts connections in its kernel and answers nothing, so without this the first callers each
 * waited the whole acquire timeout (drill 3.2.1-paused). A stall only makes the pool ask the server
 * with a connection of its own; it is down if that fails and still nothing was answered meanwhile.
 */
const STALL_FACTOR = 3
const STALL_MIN_MS = 30
const PROBE_MIN_MS = 120
/** After the server passed a check, the next one waits this long (a long lock wait is silence too). */
const PROBE_AGAIN_MS = 250
const WATCH_EVERY_MS = 20

/**
 * New work (a request's first connection) that expects to wait longer than this share of the
 * acquire timeout is refused at once: the rest is for its statements and its later steps, which go
 * before new work. Under pools of 3 on a slow database (drill 3.2.3), half let admitted requests
 * wait about 550 ms for their first connection and answer after 1 s; with a quarter (250 ms of the
 * default second), a request refused at the end of its wait was answered 503 after 255 to 275 ms,
 * past the 250 ms a failure's answer is due within.
 */
const NEW_WORK_SHARE = 0.2

/**
 * The service's one MariaDB pool: Prisma's adapter runs on it, hot paths run single statements on
 * it directly, and its counters feed the pool metrics (the manual's hikaricp active/pending checks).
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
    // The check of a connection idle for longer is one round trip; at the driver's default (250 ms)
    // a link slower than that had every idle connection thrown away and the database called down.
    // (The driver reads this option; its type declarations leave it out.)
    ...{ pingTimeout: 500 },
  })
  // The pool listens for a connection's first error only; a second fatal event on the same
  // connection (its socket ending after MariaDB went away) is then thrown and would crash the
  // process. The pool already drops and replaces a failed connection: the later events are noise.
  // A connection lost to the network or a shutdown makes the server a suspect: see suspect below.
  pool.on('connection', (conn) => {
    ;(conn as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => {
      if (databaseTrouble(err) === 'down') suspect()
    })
  })
  const liveness: Liveness = { waiting: 0, busySince: 0, answeredAt: 0, answerMs: undefined }
  const guard: Guard = {
    deadlineMs: settings.statementTimeoutMs ? settings.statementTimeoutMs + STATEMENT_GRACE_MS : 0,
    acquireTimeoutMs: settings.acquireTimeoutMs,
    database: t.database,
    line: createConnectionLine(settings.connectionLimit, settings.maxWaiting ?? 2 * settings.connectionLimit),
    down: false,
    markDown,
    suspect,
    onDown: new Set(),
    liveness,
    busyRefusals: 0,
  }
  /** How long the server usually takes to answer, times STALL_FACTOR; unknown before its first answer. */
  const usual = (min: number, unknown: number) => (liveness.answerMs === undefined ? unknown : Math.min(Math.max(STALL_FACTOR * liveness.answerMs, min), settings.acquireTimeoutMs))
  /**
   * One connection of our own, outside the pool, asks whether the server is there. Refused, or not
   * made within the usual answer time while the pool got no answer either, it is down now: the pool
   * itself keeps trying to connect until the acquire timeout, so the callers of the moment MariaDB
   * stopped or hung each waited a whole second (drill 3.2.1). Made later after all, the server is
   * up and slower than it was (a link that became slow): the pool learns its new pace from it.
   */
  let suspecting = false
  let passedAt = -Infinity
  function suspect() {
    if (guard.down || suspecting) return
    suspecting = true
    const since = performance.now()
    const cancelVerdict = afterLoopTime(usual(PROBE_MIN_MS, settings.acquireTimeoutMs), () => {
      if (liveness.answeredAt < since) markDown()
    })
    mariadb
      .createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, connectTimeout: settings.acquireTimeoutMs, ...driverTls(t) })
      .then(
        (conn) => {
          cancelVerdict()
          // A handshake is about two answers from the server: a link that became slow is learnt at once.
          const answerMs = (performance.now() - since) / 2
          liveness.answeredAt = performance.now()
          liveness.answerMs = Math.max(liveness.answerMs ?? 0, answerMs)
          passedAt = liveness.answeredAt
          guard.down = false
          return conn.end().catch(() => undefined)
        },
        (err: unknown) => {
          cancelVerdict()
          if (databaseTrouble(err) === 'down' && liveness.answeredAt < since) markDown()
        },
      )
      .finally(() => {
        suspecting = false
      })
  }
  let probing = false
  function markDown() {
    if (guard.down) return
    guard.down = true
    for (const waiting of guard.onDown) waiting()
    guard.line.refuseAll('the database was found down while this caller waited for a connection')
    if (probing) return
    probing = true
    const probe = () =>
      setTimeout(() => {
        if (!guard.down) {
          probing = false
          return
        }
        pool.getConnection().then(
          (conn) => {
            void conn.release().catch(() => undefined)
            guard.down = false
            probing = false
          },
          (err: unknown) => {
            if ((err as { errno?: number }).errno !== POOL_CLOSED) probe()
            else probing = false
          },
        )
      }, DOWN_RETRY_MS).unref()
    probe()
  }
  const watch = guard.deadlineMs
    ? setInterval(() => {
        if (liveness.waiting === 0 || guard.down || performance.now() - passedAt < PROBE_AGAIN_MS) return
        const silentMs = performance.now() - Math.max(liveness.answeredAt, liveness.busySince)
        if (silentMs >= usual(STALL_MIN_MS, settings.acquireTimeoutMs / 2)) suspect()
      }, WATCH_EVERY_MS).unref()
    : undefined
  const guarded = guardPool(pool, guard, () => clearInterval(watch))
  const traced = tracePool(guarded, { database: t.database, host: t.host, port: t.port })
  guards.set(traced, guard)
  return traced
}

/**
 * Runs `judge` once the event loop has had `ms` to itself, after the I/O that came in meanwhile is
 * read (afterIoDeadline). A deadline that expires late (the loop was busy, or the process got no
 * CPU) starts over: the server had no fair chance to be heard, and the check's own connection may
 * need another answer after the one that sat unread. Returns the cancel.
 */
function afterLoopTime(ms: number, judge: () => void): () => void {
  let cancel = () => {}
  const arm = () => {
    const due = performance.now() + ms
    cancel = afterIoDeadline(ms, () => (performance.now() - due > ms / 2 ? arm() : judge()))
  }
  arm()
  return () => cancel()
}

interface Guard {
  /** Client-side wait for one statement's answer; 0: unbounded. */
  deadlineMs: number
  acquireTimeoutMs: number
  database: string
  /** Who gets the next connection (work under way first), and who is refused at once. */
  line: ConnectionLine
  /** The database is known down: acquire() rejects at once until the probe gets a connection. */
  down: boolean
  markDown: () => void
  /** Callers waiting for a connection or a statement's answer, told at once when the database is found down. */
  onDown: Set<() => void>
  /** What a stall is judged by (see STALL_FACTOR). */
  liveness: Liveness
  /** Asks the server with a connection of its own; marks it down if that fails while nothing is answered. */
  suspect: () => void
  observe?: StatementObserver
  /** Callers refused a connection because every one was lent out (the database answering). */
  busyRefusals: number
}

/**
 * Told of every statement: its operation, how long it took, and whether it gave up waiting for a
 * lock another session holds (errno 1205; not for a statement that sets its own lock wait, such as
 * the hold's NOWAIT, which expects to give up).
 */
export type StatementObserver = (operation: string, seconds: number, gaveUpOnLock: boolean) => void

interface Liveness {
  /** Acquires and statements waiting on the server now. */
  waiting: number
  /** When `waiting` last rose from 0. */
  busySince: number
  /** When the server last answered a statement (a result or a server error). */
  answeredAt: number
  /** The usual statement time (a moving average), raised at once by a slow handshake of the pool's own check. */
  answerMs: number | undefined
}

function beginWait(l: Liveness): void {
  if (l.waiting++ === 0) l.busySince = performance.now()
}

/** A result or an error from the server itself (not one of the driver's 45xxx, not a deadline). */
function serverAnswered(l: Liveness, startedAt: number, err?: unknown): void {
  if (err !== undefined) {
    const errno = (err as { errno?: unknown } | null)?.errno
    if (typeof errno !== 'number' || errno >= 45_000) return
  }
  const now = performance.now()
  const ms = now - startedAt
  l.answeredAt = now
  l.answerMs = l.answerMs === undefined ? ms : 0.8 * l.answerMs + 0.2 * ms
}
const guards = new WeakMap<object, Guard>()

/** Reports every statement run on `pool` (created by createPool), Prisma's included: operation and duration. */
export function observeStatements(pool: mariadb.Pool, observe: StatementObserver): void {
  const guard = guards.get(pool)
  if (guard) guard.observe = observe
}

type Method = (...args: unknown[]) => Promise<unknown>

/** The pool's own timeout error (errno 45028), which databaseTrouble calls busy; counted for db_pool_refused_total. */
function poolBusy(guard: Guard, message: string): Error {
  guard.busyRefusals++
  return Object.assign(new Error(message), { errno: 45028, code: 'ER_GET_CONNECTION_TIMEOUT', sqlState: 'HY000' })
}

function deadlineError(ms: number): Error {
  return Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: DB_DEADLINE })
}

/**
 * One statement, timed and bounded: on the deadline, or once the server is found down while it
 * waits, the connection is destroyed (the driver also KILLs the query) and the statement rejects.
 */
function guarded<T>(guard: Guard, sql: string, conn: mariadb.PoolConnection, run: () => Promise<T>): Promise<T> {
  const start = performance.now()
  let p = run()
  if (guard.deadlineMs > 0) {
    const work = p
    const { liveness } = guard
    beginWait(liveness)
    p = new Promise<T>((resolve, reject) => {
      let settled = false
      const settle = () => {
        if (settled) return false
        settled = true
        cancelDeadline()
        guard.onDown.delete(wentDown)
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
        guard.suspect()
        giveUp(deadlineError(guard.deadlineMs))
      })
      const wentDown = () => giveUp(Object.assign(new Error('the database was found down while this statement waited for its answer'), { code: DB_UNREACHABLE }))
      guard.onDown.add(wentDown)
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
 * A connection: first a turn in the line (connection-line: work under way first, new work refused
 * at once when it could not be served in time), then pool.getConnection() within what is left of
 * the wait. The pool's own acquireTimeout counts only the wait in its queue: before that it pings
 * each idle connection it would lend (up to pingTimeout, 500 ms, each), and against a paused server
 * that alone took 2 s for 8 idle connections. With a turn in hand, no connection within the whole
 * acquire timeout, or a connection error, means the server cannot be reached: the guard then
 * answers the next callers at once.
 */
async function acquire(pool: mariadb.Pool, guard: Guard): Promise<mariadb.PoolConnection> {
  if (guard.down) throw downError('the database is down (a probe asks again every second); not asked')
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
    if (guard.down) throw downError('the database was found down while this caller waited for a connection')
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
 * request that waited: an exhausted pool (3.2.3) shows in the waterfall as this gap before each
 * statement, with how much of it was the line and how much the driver making a connection.
 */
function recordWait(guard: Guard, enteredAt: number, turnAt: number, underWay: boolean, err?: unknown): void {
  const now = performance.now()
  if (now - enteredAt < 1 || !trace.getSpan(context.active())?.isRecording()) return
  const span = tracer.startSpan(`wait for connection ${guard.database}`, {
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

function downError(message: string): Error {
  return Object.assign(new Error(message), { code: DB_UNREACHABLE })
}

/** The driver's connection for a caller holding a turn: within `waitMs`, and at once if the server is found down meanwhile. */
function connect(pool: mariadb.Pool, guard: Guard, waitMs: number): Promise<mariadb.PoolConnection> {
  const timeoutMs = guard.acquireTimeoutMs
  // The whole acquire timeout passed while a turn was in hand: the server is the trouble. A caller's
  // own shorter time proves nothing (the stall check watches this wait like any other).
  const unreachable = (waitedMs: number) => {
    if (waitedMs < timeoutMs) return poolBusy(guard, `no database connection within the caller's ${Math.round(waitedMs)} ms`)
    guard.markDown()
    return downError(`no database connection could be made within ${timeoutMs} ms`)
  }
  const startedAt = performance.now()
  beginWait(guard.liveness)
  return new Promise((resolve, reject) => {
    let late = false
    const settle = () => {
      late = true
      clearTimeout(timer)
      guard.onDown.delete(wentDown)
      guard.liveness.waiting--
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
    guard.onDown.add(wentDown)
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
        if (trouble === 'down') guard.markDown()
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

function guardConnection(conn: mariadb.PoolConnection, guard: Guard): mariadb.PoolConnection {
  const c = conn as unknown as Record<string, Method>
  for (const method of ['query', 'execute', 'batch'] as const) {
    const original = c[method]!
    c[method] = (sql: unknown, values?: unknown) => guarded(guard, sqlOf(sql), conn, () => original.call(conn, sql, values))
  }
  const keywords = { beginTransaction: 'BEGIN', commit: 'COMMIT', rollback: 'ROLLBACK' } as const
  for (const [method, keyword] of Object.entries(keywords)) {
    const original = c[method]!
    c[method] = () => guarded(guard, keyword, conn, () => original.call(conn))
  }
  return conn
}

/**
 * The pool with every statement bounded and timed, on lent connections and on the pool itself
 * (whose query/execute/batch borrow a connection here, so that a silent server's connection can be
 * dropped). Prisma's adapter runs on this layer; tracePool adds spans on top for everything else.
 */
function guardPool(pool: mariadb.Pool, guard: Guard, onEnd: () => void): mariadb.Pool {
  const getConnection = async () => guardConnection(await acquire(pool, guard), guard)
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

/** A proxy of the pool with `overrides`; every other method runs with the real pool as `this` (it keeps its state in private fields). */
function bindingProxy(pool: mariadb.Pool, overrides: Record<PropertyKey, unknown>): mariadb.Pool {
  const bound = new Map<PropertyKey, unknown>()
  return new Proxy(pool, {
    get(real, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop]
      const value: unknown = Reflect.get(real, prop, real)
      if (typeof value !== 'function') return value
      let fn = bound.get(prop)
      if (!fn) {
        fn = (value as (...a: unknown[]) => unknown).bind(real)
        bound.set(prop, fn)
      }
      return fn
    },
  })
}

const tracer = trace.getTracer('@tickets/shared/mysql')
const STATEMENT_MAX = 200
const statements = new Map<string, { operation: string; statement: string; ownLockWait: boolean }>()

/**
 * The operation (first keyword) and the statement with whitespace collapsed, cut to ~200 chars;
 * `ownLockWait` when it sets its own lock wait (`SET STATEMENT ... lock_wait_timeout = ... FOR`).
 * Only the SQL text is ever read: values travel apart as placeholders and never reach a span.
 */
export function describeStatement(sql: string): { operation: string; statement: string; ownLockWait: boolean } {
  let d = statements.get(sql)
  if (!d) {
    const flat = sql.replace(/\s+/g, ' ').trim()
    // `SET STATEMENT var = value FOR <statement>` is the statement, with a per-statement setting.
    const setting = /^SET STATEMENT (.*?) FOR /i.exec(flat)
    const body = setting ? flat.slice(setting[0].length) : flat
    const operation = (/^\(?\s*([A-Za-z]+)/.exec(body)?.[1] ?? 'QUERY').toUpperCase()
    const ownLockWait = !!setting && /lock_wait_timeout/i.test(setting[1]!)
    d = { operation, ownLockWait, statement: flat.length > STATEMENT_MAX ? `${flat.slice(0, STATEMENT_MAX - 1)}…` : flat }
    // The hot paths use a few dozen constant statements; a bound keeps a misuse from growing it.
    if (statements.size < 500) statements.set(sql, d)
  }
  return d
}

function sqlOf(arg: unknown): string {
  if (typeof arg === 'string') return arg
  if (arg && typeof arg === 'object' && typeof (arg as { sql?: unknown }).sql === 'string') return (arg as { sql: string }).sql
  return ''
}

type Target = { database: string; host: string; port: number }

/**
 * Runs `run` inside a CLIENT span for one statement, only when a recording span is active: the
 * sweeper, the outbox relay's polling and metrics scrapes (no parent) cost nothing.
 */
function traced<T>(target: Target, sql: string, run: () => Promise<T>): Promise<T> {
  const parent = trace.getSpan(context.active())
  if (!parent?.isRecording()) return run()
  const { operation, statement } = describeStatement(sql)
  const attributes: Attributes = {
    'db.system': 'mariadb',
    'db.name': target.database,
    'db.operation': operation,
    'db.statement': statement,
    'server.address': target.host,
    'server.port': target.port,
  }
  const span = tracer.startSpan(`${operation} ${target.database}`, { kind: SpanKind.CLIENT, attributes })
  return run().then(
    (result) => {
      span.end()
      return result
    },
    (err: unknown) => {
      span.recordException(err as Error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message })
      span.end()
      throw err
    },
  )
}

type Runner = (sql: never, values?: unknown) => Promise<unknown>

function wrapConnection(conn: mariadb.PoolConnection, target: Target): mariadb.PoolConnection {
  const c = conn as unknown as Record<string, Runner | (() => Promise<unknown>)>
  for (const method of ['query', 'execute', 'batch'] as const) {
    const original = c[method] as Runner
    c[method] = (sql: never, values?: unknown) => traced(target, sqlOf(sql), () => original.call(conn, sql, values))
  }
  const keywords = { beginTransaction: 'BEGIN', commit: 'COMMIT', rollback: 'ROLLBACK' } as const
  for (const [method, keyword] of Object.entries(keywords)) {
    const original = c[method] as () => Promise<unknown>
    c[method] = () => traced(target, keyword, () => original.call(conn))
  }
  return conn
}

const rawPools = new WeakMap<object, mariadb.Pool>()

/**
 * The pool with a CLIENT span (`db.system` mariadb, `db.operation`, `db.statement` without values)
 * around every statement run on it: `pool.query/execute/batch` and, on connections it lends,
 * `query/execute/batch/beginTransaction/commit/rollback`. Everything else is the pool itself.
 */
export function tracePool(pool: mariadb.Pool, target: Target): mariadb.Pool {
  if (rawPools.has(pool)) return pool
  const overrides: Record<PropertyKey, unknown> = {
    query: (sql: never, values?: unknown) => traced(target, sqlOf(sql), () => pool.query(sql, values)),
    execute: (sql: never, values?: unknown) => traced(target, sqlOf(sql), () => pool.execute(sql, values)),
    batch: (sql: never, values?: unknown) => traced(target, sqlOf(sql), () => pool.batch(sql, values as never)),
    getConnection: async () => wrapConnection(await pool.getConnection(), target),
  }
  const proxy = bindingProxy(pool, overrides)
  rawPools.set(proxy, pool)
  return proxy
}

/**
 * The pool without statement spans, for Prisma's driver adapter: Prisma already makes its own
 * `db_query` span for every statement it runs, so a second span per statement would only add noise.
 */
export function untracedPool(pool: mariadb.Pool): mariadb.Pool {
  return rawPools.get(pool) ?? pool
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
  const guard = guards.get(pool)
  if (guard?.down) throw new Error('the pool found the database down; it asks again every second')
  const allLent = pool.idleConnections() === 0 && pool.activeConnections() > 0
  if (allLent || pool.taskQueueSize() > 0 || (guard?.line.waiting() ?? 0) > 0) return DEPENDENCY_BUSY
  await pool.query('SELECT 1')
}

const FILL_POLL_MS = 10

/**
 * Waits until the pool holds `connections` connections, or `withinMs` passed (a database that is
 * down or slow to take connections: the service starts anyway, and its callers wait or get 503s as
 * they would). Returns how many it holds. The driver makes its connections one after another, each
 * several answers from the server: on a link 50 ms slow, a service restarted with a pool of 20 took
 * work with its first connection alone, and booking's part of a payment waited 670 ms for one
 * (drill 3.2.3).
 */
export async function fillPool(pool: mariadb.Pool, connections: number, withinMs: number): Promise<number> {
  const deadline = performance.now() + withinMs
  while (pool.totalConnections() < connections && performance.now() < deadline) await new Promise((r) => setTimeout(r, FILL_POLL_MS))
  return pool.totalConnections()
}

/**
 * The pool's gauges (the manual's hikaricp active/pending checks, 3.2.3) and every statement's
 * duration by operation, with a count of those over `slowQueryMs` (the manual's slow query log, 3.2.2).
 */
export function registerPoolMetrics(registry: Registry, pool: mariadb.Pool, max: number, opts: { slowQueryMs?: number } = {}): void {
  const duration = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Duration of SQL statements (Prisma and direct), by operation (first keyword)',
    labelNames: ['operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const slow = new Counter({
    name: 'db_slow_queries_total',
    help: 'SQL statements slower than DB_SLOW_QUERY_MS, by operation',
    labelNames: ['operation'],
    registers: [registry],
  })
  const lockGaveUp = new Counter({
    name: 'db_lock_wait_timeouts_total',
    help: 'SQL statements that gave up waiting for a lock another session holds (a row past MYSQL_LOCK_WAIT_TIMEOUT_SECONDS, a locked table at once), by operation',
    labelNames: ['operation'],
    registers: [registry],
  })
  const slowSeconds = (opts.slowQueryMs ?? 500) / 1000
  // Zero series from the start, so a rate() over them exists before the first slow statement.
  for (const operation of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) {
    slow.inc({ operation }, 0)
    lockGaveUp.inc({ operation }, 0)
  }
  observeStatements(pool, (operation, seconds, gaveUpOnLock) => {
    duration.observe({ operation }, seconds)
    if (seconds >= slowSeconds) slow.inc({ operation })
    if (gaveUpOnLock) lockGaveUp.inc({ operation })
  })
  new Gauge({
    name: 'db_pool_connections',
    help: 'MariaDB pool connections by state (active = lent out)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'active' }, pool.activeConnections())
      this.set({ state: 'idle' }, pool.idleConnections())
    },
  })
  new Gauge({
    name: 'db_pool_pending_requests',
    help: 'Requests waiting for a MariaDB connection',
    registers: [registry],
    collect() {
      this.set((guards.get(pool)?.line.waiting() ?? 0) + pool.taskQueueSize())
    },
  })
  let refusalsSeen = 0
  new Counter({
    name: 'db_pool_refused_total',
    help: 'Requests refused a MariaDB connection (503 COMMON_OVERLOADED) because every one was lent out',
    registers: [registry],
    collect() {
      const refusals = guards.get(pool)?.busyRefusals ?? 0
      this.inc(refusals - refusalsSeen)
      refusalsSeen = refusals
    },
  })
  new Gauge({ name: 'db_pool_max_connections', help: 'MariaDB pool size', registers: [registry] }).set(max)
}

/**
 * The mariadb driver (3.4) rejects an internal promise nobody awaits when a pooled connection's
 * socket ends after MariaDB went away, also while a new connection runs its session settings
 * (ER_INITIAL_SQL_ERROR). The pool already replaces the connection, so this one rejection is noise;
 * anything else unhandled is still a bug that stops the process.
 */
export function isDriverConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean; sqlState?: string } | null
  return (
    !!e && e.fatal === true && e.sqlState === '08S01' && (e.code === 'ER_SOCKET_UNEXPECTED_CLOSE' || e.code === 'ER_CMD_CONNECTION_CLOSED' || e.code === 'ER_INITIAL_SQL_ERROR')
  )
}

/** Process-level handling of unhandled rejections for a service on MariaDB (see isDriverConnectionLoss). */
export function guardUnhandledRejections(log: { warn(obj: object, msg: string): void }, fatal: (err: unknown) => void): void {
  process.on('unhandledRejection', (err) => {
    if (isDriverConnectionLoss(err)) log.warn({ err }, 'a database connection was lost; the pool replaces it')
    else fatal(err)
  })
}
