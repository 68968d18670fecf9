import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Pool } from 'mariadb'
import { createPool, fillPool } from './db/pool.js'
import { registerPoolMetrics } from './db/pool-metrics.js'
import { untracedPool } from './db/statement-tracing.js'

export interface DbOptions {
  url: string
  poolSize: number
  acquireTimeoutMs: number
  maxWaiting?: number
  statementTimeoutMs?: number
  lockWaitTimeoutSeconds?: number
  tableLockWaitSeconds?: number
  slowQueryMs?: number
}

/** The pool settings of a service's config (mysqlConfigProperties). */
export function dbOptionsOf(config: {
  MYSQL_URL: string
  MYSQL_POOL_SIZE: number
  MYSQL_ACQUIRE_TIMEOUT_MS: number
  MYSQL_MAX_WAITING: number
  MYSQL_STATEMENT_TIMEOUT_MS: number
  MYSQL_LOCK_WAIT_TIMEOUT_SECONDS: number
  MYSQL_TABLE_LOCK_WAIT_SECONDS: number
  DB_SLOW_QUERY_MS: number
}): DbOptions {
  return {
    url: config.MYSQL_URL,
    poolSize: config.MYSQL_POOL_SIZE,
    acquireTimeoutMs: config.MYSQL_ACQUIRE_TIMEOUT_MS,
    maxWaiting: config.MYSQL_MAX_WAITING || undefined,
    statementTimeoutMs: config.MYSQL_STATEMENT_TIMEOUT_MS,
    lockWaitTimeoutSeconds: config.MYSQL_LOCK_WAIT_TIMEOUT_SECONDS,
    tableLockWaitSeconds: config.MYSQL_TABLE_LOCK_WAIT_SECONDS,
    slowQueryMs: config.DB_SLOW_QUERY_MS,
  }
}

/** Prisma's driver adapter on the service's pool. Prisma makes its own db_query spans, so it gets the untraced pool. */
export function prismaAdapterFor(pool: Pool): PrismaMariaDb {
  return new PrismaMariaDb(untracedPool(pool))
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's MariaDB pool (prismaPoolPlugin). */
    pool: Pool
  }
}

/**
 * The db plugin of a service on MariaDB: one pool for Prisma and for the single-statement hot paths
 * (`app.pool`), the service's Prisma client (`app.db`), pool metrics; both closed with the app.
 * The service takes no work before its pool is full, or for at most the acquire timeout (fillPool).
 * Each service declares the type of its `db` on FastifyInstance itself.
 */
export function prismaPoolPlugin<Client extends { $disconnect(): Promise<void> }>(createClient: (pool: Pool) => Client) {
  return fp(
    async (app: FastifyInstance, opts: DbOptions) => {
      const pool = createPool({
        url: opts.url,
        connectionLimit: opts.poolSize,
        acquireTimeoutMs: opts.acquireTimeoutMs,
        maxWaiting: opts.maxWaiting,
        statementTimeoutMs: opts.statementTimeoutMs,
        lockWaitTimeoutSeconds: opts.lockWaitTimeoutSeconds,
        tableLockWaitSeconds: opts.tableLockWaitSeconds,
      })
      const db = createClient(pool)
      app.decorate('pool', pool)
      app.decorate('db', db as never)
      registerPoolMetrics(app.metrics, pool, opts.poolSize, { slowQueryMs: opts.slowQueryMs })
      app.addHook('onClose', async () => {
        await db.$disconnect()
        await pool.end()
      })
      const filled = await fillPool(pool, opts.poolSize, opts.acquireTimeoutMs)
      if (filled < opts.poolSize) app.log.warn({ connections: filled, poolSize: opts.poolSize }, 'starting before the database pool is full')
    },
    { name: 'db', dependencies: ['metrics'] },
  )
}
