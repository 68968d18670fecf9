import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { AppError } from '@tickets/contracts/errors'
import { PRESALE_CODE_HEADER } from '@tickets/contracts/presale'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { createFallbackStoreClass, MemoryWindows, redisFailed, redisUsable, type CountingOption, type FallbackState } from '../adapters/fallback-rate-store.js'
import type { SwitchBoard } from '../adapters/redis-switches.js'
import { SyncedWindows } from '../adapters/synced-rate-windows.js'
import type { RateLimitClass } from '../domain/route-table.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** request.ip, worked out once (see clientAddress). */
    clientAddress: string | null
  }
  interface FastifyInstance {
    /** Applies a route's own limit (after authentication, for the per-user classes). */
    checkRouteLimit(request: FastifyRequest, reply: FastifyReply, limit: RateLimitClass): Promise<void>
    /** The limit on joins that carry a presale code, per client address, then per user; false for a join without one. */
    checkPresaleLimit(request: FastifyRequest, reply: FastifyReply): Promise<boolean>
  }
}

export interface RateLimitOptions {
  globalMax: number
  globalWindowMs: number
  tokenPerSecond: number
  holdMax: number
  paymentMax: number
  userWindowMs: number
  /** Joins with a presale code, right or wrong, per address and per user in presaleWindowMs: what bounds guessing. */
  presalePerAddress: number
  presalePerUser: number
  presaleWindowMs: number
  /** How often the token route's in-memory counts are shared with the other instances through Redis. */
  tokenSyncMs: number
  /** How long a limit waits for its shared count in Redis before it decides from this instance's memory. */
  redisTimeoutMs: number
  switches: SwitchBoard
}

// request.ip walks X-Forwarded-For against the trusted proxies on every read; a request may ask twice.
function clientAddress(request: FastifyRequest): string {
  return (request.clientAddress ??= request.ip)
}

function rateLimited(retryAfterSeconds: number, detail: string): AppError {
  return new AppError('COMMON_RATE_LIMITED', detail, { headers: { 'retry-after': String(Math.max(1, retryAfterSeconds)) } })
}

/**
 * @fastify/rate-limit with counters in Redis (one limit across every gateway instance), falling back
 * to per-instance memory while Redis fails or does not answer within redisTimeoutMs. That is failing
 * open to a per-instance limit, not closed: a Redis outage must not refuse every fan's hold (closed)
 * nor lift the only brake on a client's flood (fully open); each instance still enforces the limit,
 * so a client gets at most N times it across N instances until Redis answers again. The global per-client limit runs on every request in
 * onRequest (404s included; /health and the OpenAPI document are exempt by their route
 * config), except the token route, which has its own, stricter per-address limit instead (docs/api.md).
 * Both are counted in memory and shared through Redis every few milliseconds: a poll or a join costs
 * no Redis call for its limit. The per-user classes (holds, payments) count in Redis on each request.
 * The route classes run from the proxy once the route (and user) is known.
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
    app.decorateRequest('clientAddress', null)
    const state: FallbackState = {
      redis: app.redis,
      memory: new MemoryWindows(),
      redisDownUntil: 0,
      retryMs: 1_000,
      timeoutMs: opts.redisTimeoutMs,
      onFallback: (err) => {
        fallbacks.inc()
        app.log.warn({ err }, 'rate limits fall back to memory: Redis failed')
      },
    }
    state.synced = new SyncedWindows(app.redis, {
      syncMs: opts.tokenSyncMs,
      redisUsable: () => redisUsable(state),
      onSyncError: (err) => redisFailed(state, err),
    })
    app.addHook('onClose', async () => state.synced?.close())

    // Not global: the plugin's own hook would run (and be awaited) on the token route too, only to
    // find it exempt. The hook below skips it before any work.
    await app.register(rateLimit, {
      global: false,
      enableDraftSpec: true,
      store: createFallbackStoreClass(state) as unknown as FastifyRateLimitStoreCtor,
    })

    const perUser = (nameSpace: string, max: number) =>
      app.createRateLimit({
        nameSpace,
        max,
        timeWindow: opts.userWindowMs,
        keyGenerator: (request) => request.userId ?? clientAddress(request),
      } as Parameters<typeof app.createRateLimit>[0])
    type LimitName = RateLimitClass | 'global' | 'presale-address' | 'presale-user'
    const limiters: Record<LimitName, ReturnType<typeof app.createRateLimit>> = {
      // Every request of every client passes it: decided in memory and shared every tokenSyncMs too.
      global: app.createRateLimit({
        counting: 'synced' satisfies CountingOption['counting'],
        nameSpace: 'rl:global:',
        max: opts.globalMax,
        timeWindow: opts.globalWindowMs,
        keyGenerator: clientAddress,
      } as Parameters<typeof app.createRateLimit>[0]),
      // The join flood's limit: decided in memory and shared every tokenSyncMs, not a round trip per join.
      token: app.createRateLimit({
        counting: 'synced' satisfies CountingOption['counting'],
        nameSpace: 'rl:token:',
        max: () => opts.switches.current().tokenLimitPerSecond ?? opts.tokenPerSecond,
        timeWindow: 1_000,
        keyGenerator: clientAddress,
      } as Parameters<typeof app.createRateLimit>[0]),
      hold: perUser('rl:hold:', opts.holdMax),
      payment: perUser('rl:payment:', opts.paymentMax),
      // Counted in Redis on each join with a code: such joins are few, and a guesser's are many.
      'presale-address': app.createRateLimit({
        nameSpace: 'rl:presale:a:',
        max: opts.presalePerAddress,
        timeWindow: opts.presaleWindowMs,
        keyGenerator: clientAddress,
      } as Parameters<typeof app.createRateLimit>[0]),
      'presale-user': app.createRateLimit({
        nameSpace: 'rl:presale:u:',
        max: opts.presalePerUser,
        timeWindow: opts.presaleWindowMs,
        keyGenerator: (request) => request.userId ?? clientAddress(request),
      } as Parameters<typeof app.createRateLimit>[0]),
    }

    async function check(request: FastifyRequest, reply: FastifyReply, limit: LimitName) {
      const result = await limiters[limit](request)
      if (result.isAllowed) return
      // A route's own, stricter limit runs after the global one: its headers win.
      reply.header('ratelimit-limit', result.max)
      reply.header('ratelimit-remaining', result.remaining)
      reply.header('ratelimit-reset', result.ttlInSeconds)
      if (result.isExceeded) {
        limited.inc({ limit })
        const who = limit === 'global' ? 'requests from this client' : limit.startsWith('presale') ? 'joins with a presale code' : `${limit} requests`
        throw rateLimited(result.ttlInSeconds, `Too many ${who}; retry in ${result.ttlInSeconds} s`)
      }
    }

    // Callback style: a join passes straight through, without a promise of its own.
    app.addHook('onRequest', (request, reply, done) => {
      if (request.publicRoute?.rateLimit === 'token') return done()
      // Only routes outside /api (/health, the OpenAPI document) opt out, in their config.
      if (!request.url.startsWith('/api/') && request.routeOptions.config.rateLimit === false) return done()
      check(request, reply, 'global').then(() => done(), done)
    })
    app.decorate('checkRouteLimit', check)
    app.decorate('checkPresaleLimit', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.headers[PRESALE_CODE_HEADER] === undefined) return false
      await check(request, reply, 'presale-address')
      await check(request, reply, 'presale-user')
      return true
    })
  },
  { name: 'rate-limits', dependencies: ['redis', 'metrics'] },
)
