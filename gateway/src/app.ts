import { QUEUE_CONCERT_HEADER } from '@tickets/contracts/auth'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { adminListener } from '@tickets/shared/admin'
import { liveRoute } from '@tickets/shared/health'
import { problemDetails, serverOptions } from '@tickets/shared/http'
import { metricsPlugin } from '@tickets/shared/metrics'
import { stopBeforeClose } from '@tickets/shared/background'
import { createRedisGuard, pingRedis, redisPlugin } from '@tickets/shared/redis'
import { fanMoves } from '@tickets/contracts/line-commands'
import { queueWaitingSeenKey } from '@tickets/contracts/queue-line'
import { queueActivityKey } from '@tickets/contracts/queue-token'
import { pressurePlugin } from '@tickets/shared/pressure'
import Fastify, { type FastifyInstance } from 'fastify'
import { reportCapacity } from './adapters/redis-capacity-report.js'
import { createRedisLineSummaries } from './adapters/redis-line-summaries.js'
import { createRedisSightings } from './adapters/redis-sightings.js'
import { createSwitchBoard } from './adapters/redis-switches.js'
import { trustedProxies, urlList, type Config } from './config.js'
import { createQueueTokenJudge } from './domain/queue-token-judge.js'
import { createUpstreamPool, type UpstreamPool } from './domain/upstream-pool.js'
import { operatorSwitches } from './operator.js'
import { startUpstreamProbes } from './jobs/upstream-probes.js'
import authPlugin from './plugins/auth.js'
import connectionBound from './plugins/connection-bound.js'
import docsPlugin from './plugins/docs.js'
import ownRequestIds from './plugins/own-request-ids.js'
import queueGate from './plugins/queue-gate.js'
import rateLimits from './plugins/rate-limits.js'
import securityHeaders, { SECURITY_HEADERS } from './plugins/security-headers.js'
import shedding from './plugins/shedding.js'
import { proxyRoutes, routeMatching, type Gate } from './routes/proxy.js'
import { waitingRoomAnswers } from './routes/waiting-room.js'
import { joinChallengeGate } from './routes/join-challenge.js'
import { PUBLIC_ROUTES, type ServiceName } from './domain/route-table.js'
import staticPages from './plugins/static-pages.js'
import { devSignInRoutes } from './routes/dev-sign-in.js'
import { fanPagesDir } from '@tickets/web/pages'

export interface BuildOptions {
  defaultMetrics?: boolean
  /** Checks run on every proxied route after authentication (the queue gate plugs in here). */
  gates?: Gate[]
}

/** An upstream instance answers on its public port (its own `/health`: no dependency of its own is asked). */
async function pingUpstream(url: string, timeoutMs: number): Promise<void> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) throw new Error(`answered ${res.status}`)
}

function serverOptionsFor(config: Config) {
  const proxies = trustedProxies(config.TRUSTED_PROXIES)
  // request.ip is the connection's address unless the connection comes from a trusted proxy:
  // then the right-most address of X-Forwarded-For that is not itself trusted.
  return {
    ...serverOptions({
      service: 'gateway',
      logLevel: config.LOG_LEVEL,
      bodyLimit: config.BODY_LIMIT_BYTES,
      instance: config.INSTANCE_ID,
      timeouts: config,
      clientErrorHeaders: SECURITY_HEADERS,
    }),
    trustProxy: proxies.length ? proxies : false,
  }
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptionsFor(config)).withTypeProvider<TypeBoxTypeProvider>()
  await app.register(metricsPlugin, { service: 'gateway', defaultMetrics: options.defaultMetrics ?? true })
  await app.register(problemDetails)
  await app.register(securityHeaders)
  await app.register(ownRequestIds)
  await app.register(connectionBound, { maxPerAddress: config.MAX_CONNECTIONS_PER_ADDRESS, trusted: trustedProxies(config.TRUSTED_PROXIES) })
  await app.register(redisPlugin, { url: config.REDIS_URL, keyPrefix: config.REDIS_PREFIX })
  const switches = await createSwitchBoard(app.redis, {
    pollMs: config.SWITCH_CACHE_MS,
    onError: (err) => app.log.debug({ err }, 'operator switches not refreshed; keeping the last known'),
  })
  app.addHook('onClose', async () => switches.close())

  const pools = Object.fromEntries(
    (
      [
        ['queue', config.QUEUE_URLS],
        ['booking', config.BOOKING_URLS],
        ['payment', config.PAYMENT_URLS],
      ] as const
    ).map(([name, urls]) => [name, createUpstreamPool(name, urlList(urls))]),
  ) as Record<ServiceName, UpstreamPool>
  const probes = startUpstreamProbes({
    pools: Object.values(pools),
    intervalMs: config.UPSTREAM_PROBE_INTERVAL_MS,
    timeoutMs: config.UPSTREAM_PROBE_TIMEOUT_MS,
    log: app.log.child({ component: 'upstream-probes' }),
  })
  stopBeforeClose(app, [probes])

  const checks: Record<string, () => Promise<void>> = { redis: () => pingRedis(app.redis) }
  for (const [name, pool] of Object.entries(pools)) {
    pool.urls.forEach((url, i) => {
      checks[pool.urls.length > 1 ? `${name}-${i + 1}` : name] = () => pingUpstream(url, config.HEALTH_TIMEOUT_MS)
    })
  }
  await app.register(liveRoute)
  await app.register(adminListener, {
    service: 'gateway',
    server: { logLevel: config.LOG_LEVEL, instance: config.INSTANCE_ID, timeouts: config },
    health: { checks, timeoutMs: config.HEALTH_TIMEOUT_MS, cacheMs: config.HEALTH_CACHE_MS },
  })
  if (config.OPERATOR_SECRET) await app.admin.register(operatorSwitches, { secret: config.OPERATOR_SECRET, redis: app.redis, config })

  await app.register(routeMatching, { routes: PUBLIC_ROUTES })
  await app.register(shedding, {
    maxEventLoopDelayMs: config.SHED_MAX_EVENT_LOOP_DELAY_MS,
    maxEventLoopUtilization: config.SHED_MAX_EVENT_LOOP_UTILIZATION,
    joinMaxEventLoopDelayMs: config.SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS,
    joinMaxEventLoopUtilization: config.SHED_JOIN_MAX_EVENT_LOOP_UTILIZATION,
    sampleIntervalMs: config.SHED_SAMPLE_INTERVAL_MS,
    retryAfterSeconds: config.SHED_RETRY_AFTER_SECONDS,
    classOf: (request) => request.publicRoute?.shed ?? 'default',
  })
  await app.register(pressurePlugin, { service: 'gateway', instance: config.INSTANCE_ID, intervalMs: config.PRESSURE_INTERVAL_MS })
  await app.register(rateLimits, {
    globalMax: config.RATE_LIMIT_GLOBAL_MAX,
    globalWindowMs: config.RATE_LIMIT_GLOBAL_WINDOW_MS,
    tokenPerSecond: config.RATE_LIMIT_TOKEN_PER_SECOND,
    holdMax: config.RATE_LIMIT_HOLD_MAX,
    paymentMax: config.RATE_LIMIT_PAYMENT_MAX,
    userWindowMs: config.RATE_LIMIT_USER_WINDOW_MS,
    presalePerAddress: config.RATE_LIMIT_PRESALE_PER_ADDRESS,
    presalePerUser: config.RATE_LIMIT_PRESALE_PER_USER,
    presaleWindowMs: config.RATE_LIMIT_PRESALE_WINDOW_MS,
    tokenSyncMs: config.RATE_LIMIT_TOKEN_SYNC_MS,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
    switches,
  })
  await app.register(authPlugin, {
    secret: config.AUTH_JWT_SECRET,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
    jwksTimeoutMs: config.HEALTH_TIMEOUT_MS,
    maxLifetimeSeconds: config.AUTH_JWT_MAX_LIFETIME_SECONDS,
  })
  const sightingsOf = (what: string, keyOf: (concertId: string) => string) =>
    createRedisSightings(app.redis, {
      keyOf,
      flushMs: config.ACTIVITY_FLUSH_MS,
      onError: (err) => app.log.debug({ err }, `a batch of ${what} did not reach the waiting room`),
    })
  const activity = sightingsOf('ACTIVE fans seen', queueActivityKey)
  const waitingSeen = sightingsOf('polls answered here', queueWaitingSeenKey)
  const summaries = createRedisLineSummaries(app.redis, {
    refreshMs: config.LINE_SUMMARY_REFRESH_MS,
    maxAgeMs: config.LINE_SUMMARY_MAX_AGE_MS,
    guard: createRedisGuard(app.redis, { timeoutMs: config.REDIS_TIMEOUT_MS }),
    onError: (err) => app.log.debug({ err }, 'line summaries not refreshed; polls go to the queue service'),
  })
  const capacity = reportCapacity(app, app.redis, {
    instance: config.INSTANCE_ID,
    intervalMs: config.CAPACITY_REPORT_MS,
    guard: createRedisGuard(app.redis, { timeoutMs: config.REDIS_TIMEOUT_MS }),
    onError: (err) => app.log.debug({ err }, 'answer capacity not reported'),
  })
  // Stopped before onClose closes Redis: the last sightings still reach the waiting room.
  stopBeforeClose(app, [activity, waitingSeen, summaries, capacity])
  const judge = createQueueTokenJudge(config.AUTH_JWT_SECRET)
  await app.register(queueGate, { judge, activity })
  const waitingRoom: Gate = async (request, route) => {
    if (!route.queue) return
    await app.queueGate(request, route)
    if (request.queueConcertId) request.upstreamHeaders = { ...request.upstreamHeaders, [QUEUE_CONCERT_HEADER]: request.queueConcertId }
  }
  await app.register(docsPlugin, { routes: PUBLIC_ROUTES, pools, cacheMs: config.DOCS_CACHE_MS, timeoutMs: config.HEALTH_TIMEOUT_MS })
  await app.register(staticPages, { root: fanPagesDir, urlPrefix: '/' })
  if (config.DEV_SIGN_IN) await app.register(devSignInRoutes, { secret: config.AUTH_JWT_SECRET, issuer: config.AUTH_JWT_ISSUER })

  await proxyRoutes(app, {
    routes: PUBLIC_ROUTES,
    pools,
    deadlinesMs: { read: config.UPSTREAM_READ_TIMEOUT_MS, write: config.UPSTREAM_TIMEOUT_MS, payment: config.UPSTREAM_PAYMENT_TIMEOUT_MS },
    retryAfterSeconds: config.UPSTREAM_RETRY_AFTER_SECONDS,
    connectionTtlMs: config.UPSTREAM_CONNECTION_TTL_MS,
    internalSecret: config.INTERNAL_SECRET,
    switches,
    // The challenge first: a join refused for its proof costs no Redis call.
    gates: [joinChallengeGate({ secret: config.AUTH_JWT_SECRET, switches, registry: app.metrics }), waitingRoom, ...(options.gates ?? [])],
    localAnswers:
      config.LINE_SUMMARY_MAX_AGE_MS > 0
        ? waitingRoomAnswers({
            secret: config.AUTH_JWT_SECRET,
            judge,
            summaries,
            sightings: waitingSeen,
            moves: fanMoves(app.redis),
            guard: createRedisGuard(app.redis, { timeoutMs: config.QUEUE_REDIS_TIMEOUT_MS, pauseOn: 'silence' }),
            registry: app.metrics,
          })
        : {},
  })
  return app
}
