import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { healthRoutes } from '@tickets/shared/health'
import { problemDetails, serverOptions } from '@tickets/shared/http'
import { metricsPlugin } from '@tickets/shared/metrics'
import { pingRedis, redisPlugin } from '@tickets/shared/redis'
import Fastify, { type FastifyInstance } from 'fastify'
import { urlList, type Config } from './config.js'
import authPlugin from './plugins/auth.js'
import queueGate from './plugins/queue-gate.js'
import { proxyRoutes } from './routes/proxy.js'

export interface BuildOptions {
  defaultMetrics?: boolean
}

async function pingUpstream(url: string, timeoutMs: number): Promise<void> {
  const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) throw new Error(`${url} is not ready (${res.status})`)
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions({ service: 'gateway', logLevel: config.LOG_LEVEL, bodyLimit: config.BODY_LIMIT_BYTES })).withTypeProvider<TypeBoxTypeProvider>()
  await app.register(metricsPlugin, { service: 'gateway', defaultMetrics: options.defaultMetrics ?? true })
  await app.register(problemDetails)
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX })
  await app.register(authPlugin, { secret: config.AUTH_JWT_SECRET })
  await app.register(queueGate, { secret: config.AUTH_JWT_SECRET })

  const services = { queue: urlList(config.QUEUE_URLS), booking: urlList(config.BOOKING_URLS), payment: urlList(config.PAYMENT_URLS) }
  const checks: Record<string, () => Promise<void>> = { redis: () => pingRedis(app.redis) }
  for (const [name, urls] of Object.entries(services)) {
    urls.forEach((url, i) => {
      checks[urls.length > 1 ? `${name}-${i + 1}` : name] = () => pingUpstream(url, config.HEALTH_TIMEOUT_MS)
    })
  }
  await app.register(healthRoutes, { timeoutMs: config.HEALTH_TIMEOUT_MS, checks })

  const catalogueRead = (request: { method: string; url: string }) =>
    request.method === 'GET' && /^\/api\/concerts(\/ranking|\/[^/]+\/schedules)?\/?(\?.*)?$/.test(request.url)
  await proxyRoutes(app, {
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    routes: [
      { prefix: '/api/queue', upstreams: services.queue },
      { prefix: '/api/concerts', upstreams: services.booking, isPublic: catalogueRead },
      { prefix: '/api/reservations', upstreams: services.booking },
      { prefix: '/api/points', upstreams: services.payment },
      { prefix: '/api/payments', upstreams: services.payment },
    ],
  })
  return app
}
