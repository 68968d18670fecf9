import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api'
import * as mariadb from 'mariadb'
import { Gauge, type Registry } from 'prom-client'
import { parseMysqlUrl } from './migrate.js'

export interface PoolSettings {
  url: string
  connectionLimit: number
  acquireTimeoutMs: number
}

/**
 * The service's one MariaDB pool: Prisma's adapter runs on it, hot paths run single statements on
 * it directly, and its counters feed the pool metrics (the manual's hikaricp active/pending checks).
 */
export function createPool(settings: PoolSettings): mariadb.Pool {
  const t = parseMysqlUrl(settings.url)
  const pool = mariadb.createPool({
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database: t.database,
    connectionLimit: settings.connectionLimit,
    acquireTimeout: settings.acquireTimeoutMs,
    connectTimeout: 2_000,
    minDelayValidation: 200,
    prepareCacheLength: 0,
    bigIntAsNumber: false,
    insertIdAsNumber: true,
    decimalAsNumber: false,
    dateStrings: false,
  })
  // The pool listens for a connection's first error only; a second fatal event on the same
  // connection (its socket ending after MariaDB went away) is then thrown and would crash the
  // process. The pool already drops and replaces a failed connection: the later events are noise.
  pool.on('connection', (conn) => {
    ;(conn as unknown as NodeJS.EventEmitter).on('error', () => undefined)
  })
  return tracePool(pool, { database: t.database, host: t.host, port: t.port })
}

const tracer = trace.getTracer('@tickets/shared/mysql')
const STATEMENT_MAX = 200
const statements = new Map<string, { operation: string; statement: string }>()

/**
 * The operation (first keyword) and the statement with whitespace collapsed, cut to ~200 chars.
 * Only the SQL text is ever read: values travel apart as placeholders and never reach a span.
 */
export function describeStatement(sql: string): { operation: string; statement: string } {
  let d = statements.get(sql)
  if (!d) {
    const flat = sql.replace(/\s+/g, ' ').trim()
    const operation = (/^\(?\s*([A-Za-z]+)/.exec(flat)?.[1] ?? 'QUERY').toUpperCase()
    d = { operation, statement: flat.length > STATEMENT_MAX ? `${flat.slice(0, STATEMENT_MAX - 1)}…` : flat }
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
  const bound = new Map<PropertyKey, unknown>()
  const proxy = new Proxy(pool, {
    get(real, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop]
      const value: unknown = Reflect.get(real, prop, real)
      if (typeof value !== 'function') return value
      // The pool keeps its state in private fields: its methods must run with the pool as `this`.
      let fn = bound.get(prop)
      if (!fn) {
        fn = (value as (...a: unknown[]) => unknown).bind(real)
        bound.set(prop, fn)
      }
      return fn
    },
  })
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

export async function pingPool(pool: mariadb.Pool): Promise<void> {
  await pool.query('SELECT 1')
}

export function registerPoolMetrics(registry: Registry, pool: mariadb.Pool, max: number): void {
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
      this.set(pool.taskQueueSize())
    },
  })
  new Gauge({ name: 'db_pool_max_connections', help: 'MariaDB pool size', registers: [registry] }).set(max)
}

/**
 * The mariadb driver (3.4) rejects an internal promise nobody awaits when a pooled connection's
 * socket ends after MariaDB went away. The pool already replaces the connection, so this one
 * rejection is noise; anything else unhandled is still a bug that stops the process.
 */
export function isDriverConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean; sqlState?: string } | null
  return !!e && e.fatal === true && e.sqlState === '08S01' && (e.code === 'ER_SOCKET_UNEXPECTED_CLOSE' || e.code === 'ER_CMD_CONNECTION_CLOSED')
}

/** Process-level handling of unhandled rejections for a service on MariaDB (see isDriverConnectionLoss). */
export function guardUnhandledRejections(log: { warn(obj: object, msg: string): void }, fatal: (err: unknown) => void): void {
  process.on('unhandledRejection', (err) => {
    if (isDriverConnectionLoss(err)) log.warn({ err }, 'a database connection was lost; the pool replaces it')
    else fatal(err)
  })
}
