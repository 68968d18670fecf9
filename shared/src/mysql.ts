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
  return mariadb.createPool({
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
