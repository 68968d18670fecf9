import { prismaAdapterFor, prismaPoolPlugin } from '@tickets/shared/prisma-pool'
import type { Pool } from 'mariadb'
import { PrismaClient } from '../generated/prisma/client.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: PrismaClient
  }
}

export function createDbClient(pool: Pool): PrismaClient {
  return new PrismaClient({ adapter: prismaAdapterFor(pool) })
}

export default prismaPoolPlugin(createDbClient)
