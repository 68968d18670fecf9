import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { healthRoutes } from '@tickets/shared/health'
import { problemDetails, serverOptions } from '@tickets/shared/http'
import { metricsPlugin } from '@tickets/shared/metrics'
import { openapiPlugin } from '@tickets/shared/openapi'
import { pingPool } from '@tickets/shared/mysql'
import { natsPlugin } from '@tickets/shared/nats'
import { pingRedis, redisPlugin } from '@tickets/shared/redis'
import Fastify, { type FastifyInstance } from 'fastify'
import { createPrismaWalletStore } from './adapters/prisma-wallet-store.js'
import type { Config } from './config.js'
import { createPointsService } from './domain/points-service.js'
import dbPlugin from './plugins/db.js'
import { pointsRoutes } from './routes/points.js'

export interface BuildOptions {
  defaultMetrics?: boolean
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ service: 'payment-service', logLevel: config.LOG_LEVEL })).withTypeProvider<TypeBoxTypeProvider>()
  await app.register(metricsPlugin, { service: 'payment-service', defaultMetrics: options.defaultMetrics ?? true })
  await app.register(problemDetails)
  await app.register(openapiPlugin, { service: 'payment-service' })
  await app.register(dbPlugin, { url: config.MYSQL_URL, poolSize: config.MYSQL_POOL_SIZE, acquireTimeoutMs: config.MYSQL_ACQUIRE_TIMEOUT_MS })
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX })
  await app.register(natsPlugin, { url: config.NATS_URL, name: config.INSTANCE_ID, namespace: config.NATS_NAMESPACE })
  await app.register(healthRoutes, {
    timeoutMs: config.HEALTH_TIMEOUT_MS,
    checks: { database: () => pingPool(app.pool), redis: () => pingRedis(app.redis), nats: () => app.nats.ping() },
  })

  const points = createPointsService({ wallets: createPrismaWalletStore(app.db) })
  await app.register(pointsRoutes, { prefix: '/api/points', points })
  return app
}
