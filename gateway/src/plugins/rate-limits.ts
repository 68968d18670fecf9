import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { AppError } from '@tickets/shared/errors'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { createFallbackStoreClass, MemoryWindows, type FallbackState } from '../adapters/fallback-rate-store.js'
import type { SwitchBoard } from '../adapters/redis-switches.js'
import type { RateLimitClass } from '../routes/table.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Applies a route's own limit (after authentication, for the per-user classes). */
    checkRouteLimit(request: FastifyRequest, reply: FastifyReply, limit: RateLimitClass): Promise<void>
  }
}

export interface RateLimitOptions {
  globalMax: number
  globalWindowMs: number
  tokenPerSecond: number
  holdMax: number
  paymentMax: number
  userWindowMs: number
  switches: SwitchBoard
}

// request.ip walks X-Forwarded-For against the trusted proxies on every read; a request asks twice.
const clientAddresses = new WeakMap<FastifyRequest, string>()
function clientAddress(request: FastifyRequest): string {
  let ip = clientAddresses.get(request)
  if (ip === undefined) {
    ip = request.ip
    clientAddresses.set(request, ip)
  }
  return ip
}

function rateLimited(retryAfterSeconds: number, detail: string): AppError {
  return new AppError('COMMON_RATE_LIMITED', detail, { headers: { 'retry-after': String(Math.max(1, retryAfterSeconds)) } })
}

/**
 * @fastify/rate-limit with counters in Redis (one limit across every gateway instance), falling back
 * to per-instance memory while Redis fails. The global per-client limit runs on every route in
 * onRequest, except the token route, which has its own, stricter per-address limit instead (api.md):
 * a join costs one Redis call, not two. The route classes run from the proxy once the route (and
 * user) is known.
 */
export default fp(
  async (app: FastifyInstance, opts: RateLimitOptions) => {
    const fallbacks = new Counter({
      name: 'gateway_rate_limit_fallback_total',
      help: 'Rate-limit decisions taken from per-instance memory because Redis failed',
      registers: [app.metrics],
    })
    const limited = new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused with 429, by limit class',
      labelNames: ['limit'],
      registers: [app.metrics],
    })
    const state: FallbackState = {
      redis: app.redis,
      memory: new MemoryWindows(),
      redisDownUntil: 0,
      retryMs: 1_000,
      onFallback: (err) => {
        fallbacks.inc()
        app.log.warn({ err }, 'rate limits fall back to memory: Redis failed')
      },
    }

    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: opts.globalMax,
      timeWindow: opts.globalWindowMs,
      enableDraftSpec: true,
      keyGenerator: clientAddress,
      allowList: (request) => request.publicRoute?.rateLimit === 'token',
      store: createFallbackStoreClass(state) as unknown as FastifyRateLimitStoreCtor,
      errorResponseBuilder: (_request, context) => {
        limited.inc({ limit: 'global' })
        return rateLimited(Math.ceil(context.ttl / 1000), `Too many requests from this client; retry in ${context.after}`)
      },
    })

    // Limiters made here inherit the global options; the global limit's exemption is not theirs.
    const own = { allowList: [] as string[] }
    const perUser = (nameSpace: string, max: number) =>
      app.createRateLimit({
        ...own,
        nameSpace,
        max,
        timeWindow: opts.userWindowMs,
        keyGenerator: (request) => request.userId ?? clientAddress(request),
      } as Parameters<typeof app.createRateLimit>[0])
    const limiters = {
      token: app.createRateLimit({
        ...own,
        nameSpace: 'rl:token:',
        max: () => opts.switches.current().tokenLimitPerSecond ?? opts.tokenPerSecond,
        timeWindow: 1_000,
        keyGenerator: clientAddress,
      } as Parameters<typeof app.createRateLimit>[0]),
      hold: perUser('rl:hold:', opts.holdMax),
      payment: perUser('rl:payment:', opts.paymentMax),
    }

    app.decorate('checkRouteLimit', async (request: FastifyRequest, reply: FastifyReply, limit: RateLimitClass) => {
      const result = await limiters[limit](request)
      if (result.isAllowed) return
      // The route's own, stricter limit is the one the client has to respect: its headers win.
      reply.header('ratelimit-limit', result.max)
      reply.header('ratelimit-remaining', result.remaining)
      reply.header('ratelimit-reset', result.ttlInSeconds)
      if (result.isExceeded) {
        limited.inc({ limit })
        throw rateLimited(result.ttlInSeconds, `Too many ${limit} requests; retry in ${result.ttlInSeconds} s`)
      }
    })
  },
  { name: 'rate-limits', dependencies: ['redis', 'metrics'] },
)
