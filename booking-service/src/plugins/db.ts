import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { createPool, pingPool, registerPoolMetrics, untracedPool } from '@tickets/shared/mysql'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Pool } from 'mariadb'
import { PrismaClient } from '../generated/prisma/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: PrismaClient
    pool: Pool
  }
}

export interface DbOptions {
  url: string
  poolSize: number
  acquireTimeoutMs: number
}

export function createDbClient(pool: Pool): PrismaClient {
  // Prisma makes its own db_query span per statement: its pool stays without ours.
  return new PrismaClient({ adapter: new PrismaMariaDb(untracedPool(pool)) })
}

/** One pool for Prisma and for the single-statement hot paths; closed with the app. */
export default fp(
  async (app: FastifyInstance, opts: DbOptions) => {
    const pool = createPool({ url: opts.url, connectionLimit: opts.poolSize, acquireTimeoutMs: opts.acquireTimeoutMs })
    const db = createDbClient(pool)
    app.decorate('pool', pool)
    app.decorate('db', db)
    registerPoolMetrics(app.metrics, pool, opts.poolSize)
    app.addHook('onClose', async () => {
      await db.$disconnect()
      await pool.end()
    })
  },
  { name: 'db', dependencies: ['metrics'] },
)

export { pingPool }
