import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { healthRoutes } from '@tickets/shared/health'
import { problemDetails, serverOptions } from '@tickets/shared/http'
import { metricsPlugin } from '@tickets/shared/metrics'
import { openapiPlugin } from '@tickets/shared/openapi'
import { natsPlugin } from '@tickets/shared/nats'
import { pingPool } from '@tickets/shared/mysql'
import { pingRedis, redisPlugin } from '@tickets/shared/redis'
import Fastify, { type FastifyInstance } from 'fastify'
import { createPrismaCatalogueStore } from './adapters/prisma-catalogue-store.js'
import type { Config } from './config.js'
import { createCatalogueService } from './domain/catalogue-service.js'
import dbPlugin from './plugins/db.js'
import { concertRoutes } from './routes/concerts.js'

export interface BuildOptions {
  /** Default Node process metrics; tests that build many apps in one process turn them off. */
  defaultMetrics?: boolean
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ service: 'booking-service', logLevel: config.LOG_LEVEL })).withTypeProvider<TypeBoxTypeProvider>()
  await app.register(metricsPlugin, { service: 'booking-service', defaultMetrics: options.defaultMetrics ?? true })
  await app.register(problemDetails)
  await app.register(openapiPlugin, { service: 'booking-service' })
  await app.register(dbPlugin, { url: config.MYSQL_URL, poolSize: config.MYSQL_POOL_SIZE, acquireTimeoutMs: config.MYSQL_ACQUIRE_TIMEOUT_MS })
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX })
  await app.register(natsPlugin, { url: config.NATS_URL, name: config.INSTANCE_ID, namespace: config.NATS_NAMESPACE })
  await app.register(healthRoutes, {
    timeoutMs: config.HEALTH_TIMEOUT_MS,
    checks: { database: () => pingPool(app.pool), redis: () => pingRedis(app.redis), nats: () => app.nats.ping() },
  })

  const clock = { now: () => new Date() }
  const catalogue = createCatalogueService({ store: createPrismaCatalogueStore(app.db, app.pool), clock })
  await app.register(concertRoutes, { prefix: '/api/concerts', catalogue })
  return app
}
