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

function rateLimited(retryAfterSeconds: number, detail: string): AppError {
  return new AppError('COMMON_RATE_LIMITED', detail, { headers: { 'retry-after': String(Math.max(1, retryAfterSeconds)) } })
}

/**
 * @fastify/rate-limit with counters in Redis (one limit across every gateway instance), falling back
 * to per-instance memory while Redis fails. The global per-client limit runs on every route in
 * onRequest; the route classes run from the proxy once the route (and user) is known.
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
      store: createFallbackStoreClass(state) as unknown as FastifyRateLimitStoreCtor,
      errorResponseBuilder: (_request, context) => {
        limited.inc({ limit: 'global' })
        return rateLimited(Math.ceil(context.ttl / 1000), `Too many requests from this client; retry in ${context.after}`)
      },
    })

    const perUser = (nameSpace: string, max: number) =>
      app.createRateLimit({
        nameSpace,
        max,
        timeWindow: opts.userWindowMs,
        keyGenerator: (request) => request.userId ?? request.ip,
      } as Parameters<typeof app.createRateLimit>[0])
    const limiters = {
      token: app.createRateLimit({
        nameSpace: 'rl:token:',
        max: () => opts.switches.current().tokenLimitPerSecond ?? opts.tokenPerSecond,
        timeWindow: 1_000,
        keyGenerator: (request) => request.ip,
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
