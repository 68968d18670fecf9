import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { claimForRequest } from './connection-line.js'
import { adminListener } from './admin.js'
import { createGatewayTrust } from './gateway-trust.js'
import { liveRoute, type DependencyCheck } from './health.js'
import { problemDetails, serverOptions, type HttpTimeouts } from './http.js'
import { metricsPlugin } from './metrics.js'
import { checkPool } from './db/pool.js'
import { natsPlugin } from './bus/plugin.js'
import { openapiPlugin } from './openapi.js'
import { pressurePlugin } from './pressure.js'
import type { DbOptions } from './prisma-pool.js'
import { pingRedis, redisPlugin } from './redis.js'
// The app's decorations are typed where their plugins are (app.metrics, app.pool, app.redis, app.nats):
// these keep the declarations in this module's emitted types, so an app built here sees them.
import './metrics.js'
import './prisma-pool.js'
import './redis.js'
import './nats.js'

/** The settings createServiceApp reads (commonConfigProperties and redisConfigProperties, and the instance id). */
export interface ServiceAppConfig extends HttpTimeouts {
  LOG_LEVEL: string
  INSTANCE_ID: string
  REDIS_URL: string
  REDIS_PREFIX: string
  NATS_URL: string
  NATS_NAMESPACE: string
  NATS_STREAM_REPLICAS?: number
  HEALTH_TIMEOUT_MS: number
  HEALTH_CACHE_MS: number
  INTERNAL_SECRET: string
  INTERNAL_CLOCK_SKEW_MS: number
}

export interface ServiceAppOptions {
  service: string
  config: ServiceAppConfig
  /** Default Node process metrics; tests that build many apps in one process turn them off. */
  defaultMetrics?: boolean
  /** A service on MariaDB: its db plugin (prismaPoolPlugin) and pool settings; its dependency health then checks the pool. */
  db?: { plugin: FastifyPluginAsync<DbOptions>; options: DbOptions }
  /** Reports how hard the service struggles, on `watch`, for the waiting room to slow admission. */
  pressure?: { service: string; intervalMs: number; watch: { method: string; route: string } }
}

/**
 * A service's app with what every service registers before its own parts, in this order: metrics,
 * problem details, OpenAPI docs, the database (if any), Redis, NATS, `/health`, the admin listener
 * (readiness, each dependency's health, metrics), pressure.
 */
export async function createServiceApp(opts: ServiceAppOptions): Promise<FastifyInstance> {
  const { config } = opts
  const app = Fastify(serverOptions({ service: opts.service, logLevel: config.LOG_LEVEL, instance: config.INSTANCE_ID, timeouts: config }))
  // The API answers the gateway only (its signature), and each request's work is bounded by the
  // gateway's deadline. Each request has its own claim on the database pool: once it has one
  // connection, its next ones go before those of requests that have none yet (connection-line).
  const deadlineOf = createGatewayTrust({ secret: config.INTERNAL_SECRET, clockSkewMs: config.INTERNAL_CLOCK_SKEW_MS })
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.url.startsWith('/api/')) return claimForRequest(done)
    let until: number
    try {
      until = deadlineOf(request)
    } catch (err) {
      return done(err as Error)
    }
    claimForRequest(done, until)
  })
  await app.register(metricsPlugin, { service: opts.service, defaultMetrics: opts.defaultMetrics ?? true })
  await app.register(problemDetails)
  await app.register(openapiPlugin, { service: opts.service })
  const checks: Record<string, DependencyCheck> = {}
  if (opts.db) {
    await app.register(opts.db.plugin, opts.db.options)
    checks.database = () => checkPool(app.pool)
  }
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX })
  await app.register(natsPlugin, { url: config.NATS_URL, name: config.INSTANCE_ID, namespace: config.NATS_NAMESPACE, streamReplicas: config.NATS_STREAM_REPLICAS })
  checks.redis = () => pingRedis(app.redis)
  checks.nats = () => app.nats.ping()
  await app.register(liveRoute)
  await app.register(adminListener, {
    service: opts.service,
    server: { logLevel: config.LOG_LEVEL, instance: config.INSTANCE_ID, timeouts: config },
    health: { checks, timeoutMs: config.HEALTH_TIMEOUT_MS, cacheMs: config.HEALTH_CACHE_MS },
  })
  if (opts.pressure) await app.register(pressurePlugin, { ...opts.pressure, instance: config.INSTANCE_ID })
  return app
}
