import type { RedisClient } from '@tickets/shared/redis'
import { INCR_WINDOW } from './rate-scripts.js'
import type { SyncedWindows } from './synced-rate-windows.js'

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void

/** Per-instance fixed windows, used only while Redis cannot answer. */
export class MemoryWindows {
  private readonly windows = new Map<string, { count: number; resetAt: number }>()
  constructor(private readonly now: () => number = Date.now) {}

  incr(key: string, timeWindow: number): { current: number; ttl: number } {
    const now = this.now()
    let w = this.windows.get(key)
    if (!w || w.resetAt <= now) {
      if (this.windows.size > 50_000) this.sweep(now)
      w = { count: 0, resetAt: now + timeWindow }
      this.windows.set(key, w)
    }
    w.count++
    return { current: w.count, ttl: w.resetAt - now }
  }

  private sweep(now: number) {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k)
  }
}

export interface FallbackState {
  redis: RedisClient
  memory: MemoryWindows
  /** While now < this, Redis is not asked: a paused Redis would otherwise add its timeout to every request. */
  redisDownUntil: number
  retryMs: number
  /**
   * How long a request waits for its count from Redis. A paused Redis answers nothing, and the
   * client's command timeout (1 s) would be added to the first requests of every retryMs.
   */
  timeoutMs: number
  onFallback?: (err: unknown) => void
  /** Windows for the limiters made with `counting: 'synced'`: decided in memory, shared every few ms. */
  synced?: SyncedWindows
}

/** A limiter's own option, passed through @fastify/rate-limit to the store: how its hits are counted. */
export interface CountingOption {
  counting?: 'per-request' | 'synced'
}

export function redisUsable(state: FallbackState): boolean {
  return Date.now() >= state.redisDownUntil && state.redis.status === 'ready'
}

export function redisFailed(state: FallbackState, err: unknown): void {
  state.redisDownUntil = Date.now() + state.retryMs
  state.onFallback?.(err)
}

/**
 * A store for @fastify/rate-limit: counters in Redis, so every gateway instance shares one limit;
 * when Redis fails, per-instance memory for a short while, so requests are limited, not failed.
 * @see https://github.com/fastify/fastify-rate-limit#custom-store
 */
export function createFallbackStoreClass(state: FallbackState) {
  // EVALSHA rather than the script's text on every request (ioredis falls back to EVAL on NOSCRIPT).
  const redis = state.redis as RedisClient & { incrWindow?: (key: string, windowMs: string) => Promise<[number, number]> }
  if (!redis.incrWindow) redis.defineCommand(INCR_WINDOW.command, { numberOfKeys: INCR_WINDOW.keys.length, lua: INCR_WINDOW.lua })
  return class FallbackRateStore {
    readonly nameSpace: string
    constructor(params: { nameSpace?: string } = {}) {
      this.nameSpace = params.nameSpace ?? 'rl:global:'
    }

    incr(key: string, callback: Callback, timeWindow: number) {
      const fullKey = this.nameSpace + key
      const useMemory = (err?: unknown) => {
        if (err !== undefined) redisFailed(state, err)
        callback(null, state.memory.incr(fullKey, timeWindow))
      }
      if (!redisUsable(state)) return useMemory()
      // Whichever comes first decides: Redis's count, its error, or the deadline (memory then).
      let decided = false
      const timer = setTimeout(() => {
        decided = true
        useMemory(new Error(`redis did not answer within ${state.timeoutMs} ms`))
      }, state.timeoutMs)
      redis.incrWindow!(fullKey, String(timeWindow)).then(
        ([current, ttl]) => {
          if (decided) return
          clearTimeout(timer)
          callback(null, { current, ttl })
        },
        (err: unknown) => {
          if (decided) return
          clearTimeout(timer)
          useMemory(err)
        },
      )
    }

    child(routeOptions: { nameSpace?: string } & CountingOption): FallbackRateStore | SyncedRateStore {
      const nameSpace = routeOptions.nameSpace ?? this.nameSpace
      if (routeOptions.counting !== 'synced') return new FallbackRateStore({ nameSpace })
      if (!state.synced) throw new Error('counting: synced needs the state to have synced windows')
      return new SyncedRateStore(nameSpace, state.synced)
    }
  }
}

/** The store of a limiter that counts in memory and shares its counts through Redis (SyncedWindows). */
class SyncedRateStore {
  constructor(
    readonly nameSpace: string,
    private readonly windows: SyncedWindows,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number) {
    callback(null, this.windows.incr(this.nameSpace + key, timeWindow))
  }

  child(): never {
    throw new Error('a synced limiter has no children')
  }
}
