import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api'
import type * as mariadb from 'mariadb'
import { aroundStatements, bindingProxy, sqlOf } from './statement-hooks.js'

export const dbTracer = trace.getTracer('@tickets/shared/mysql')
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
  const span = dbTracer.startSpan(`${operation} ${target.database}`, { kind: SpanKind.CLIENT, attributes })
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
    getConnection: async () => aroundStatements(await pool.getConnection(), (sql, run) => traced(target, sql, run)),
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
