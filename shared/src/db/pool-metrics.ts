import type * as mariadb from 'mariadb'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { guardOf, type StatementObserver } from './guard.js'

/** Reports every statement run on `pool` (created by createPool), Prisma's included: operation and duration. */
export function observeStatements(pool: mariadb.Pool, observe: StatementObserver): void {
  const guard = guardOf(pool)
  if (guard) guard.observe = observe
}

/**
 * The pool's gauges (active, idle and pending connections, as the runbook's db-pool-exhausted reads
 * them) and every statement's duration by operation, with a count of those over `slowQueryMs`.
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
      this.set((guardOf(pool)?.line.waiting() ?? 0) + pool.taskQueueSize())
    },
  })
  let refusalsSeen = 0
  new Counter({
    name: 'db_pool_refused_total',
    help: 'Requests refused a MariaDB connection (503 COMMON_OVERLOADED) because every one was lent out',
    registers: [registry],
    collect() {
      const refusals = guardOf(pool)?.busyRefusals ?? 0
      this.inc(refusals - refusalsSeen)
      refusalsSeen = refusals
    },
  })
  new Gauge({ name: 'db_pool_max_connections', help: 'MariaDB pool size', registers: [registry] }).set(max)
}
