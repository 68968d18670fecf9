import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Pool } from 'mariadb'
import { createPool, registerPoolMetrics, untracedPool } from './mysql.js'

export interface DbOptions {
  url: string
  poolSize: number
  acquireTimeoutMs: number
}

/** Prisma's driver adapter on the service's pool. Prisma makes its own db_query spans, so it gets the untraced pool. */
export function prismaAdapterFor(pool: Pool): PrismaMariaDb {
  return new PrismaMariaDb(untracedPool(pool))
}

/**
 * The db plugin of a service on MariaDB: one pool for Prisma and for the single-statement hot paths
 * (`app.pool`), the service's Prisma client (`app.db`), pool metrics; both closed with the app.
 * Each service declares the types of `db` and `pool` on FastifyInstance itself.
 */
export function prismaPoolPlugin<Client extends { $disconnect(): Promise<void> }>(createClient: (pool: Pool) => Client) {
  return fp(
    async (app: FastifyInstance, opts: DbOptions) => {
      const pool = createPool({ url: opts.url, connectionLimit: opts.poolSize, acquireTimeoutMs: opts.acquireTimeoutMs })
      const db = createClient(pool)
      app.decorate('pool', pool)
      app.decorate('db', db as never)
      registerPoolMetrics(app.metrics, pool, opts.poolSize)
      app.addHook('onClose', async () => {
        await db.$disconnect()
        await pool.end()
      })
    },
    { name: 'db', dependencies: ['metrics'] },
  )
}
