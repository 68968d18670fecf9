import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { healthRoutes } from '@tickets/shared/health'
import { problemDetails, serverOptions } from '@tickets/shared/http'
import { metricsPlugin } from '@tickets/shared/metrics'
import { openapiPlugin } from '@tickets/shared/openapi'
import { natsPlugin } from '@tickets/shared/nats'
import { pingRedis, redisPlugin } from '@tickets/shared/redis'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Config } from './config.js'

export interface BuildOptions {
  defaultMetrics?: boolean
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ service: 'queue-service', logLevel: config.LOG_LEVEL })).withTypeProvider<TypeBoxTypeProvider>()
  await app.register(metricsPlugin, { service: 'queue-service', defaultMetrics: options.defaultMetrics ?? true })
  await app.register(problemDetails)
  await app.register(openapiPlugin, { service: 'queue-service' })
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX })
  await app.register(natsPlugin, { url: config.NATS_URL, name: config.INSTANCE_ID, namespace: config.NATS_NAMESPACE })
  await app.register(healthRoutes, {
    timeoutMs: config.HEALTH_TIMEOUT_MS,
    checks: { redis: () => pingRedis(app.redis), nats: () => app.nats.ping() },
  })
  return app
}
