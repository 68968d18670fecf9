import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Cluster, Redis } from 'ioredis'
import { Gauge, type Registry } from 'prom-client'
import { afterIoDeadline } from './deadline.js'
import { parseRedisUrl } from './redis-topology.js'

/** One server, a primary found through Sentinel (both `Redis`), or a Redis Cluster: see redis-topology.ts. */
export type RedisClient = Redis | Cluster

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
  }
}

/**
 * Fails fast while Redis is down (no offline queue, one retry per command) so callers can fall
 * back to the database at once instead of hanging; reconnects in the background. Commands issued in
 * the same tick go out in one write (auto-pipelining; per node on a cluster): under load a socket
 * write per command was a large share of the gateway's CPU (two rate-limit scripts per request).
 */
export function createRedis(url: string, keyPrefix: string): RedisClient {
  if (keyPrefix.includes('{')) throw new Error(`REDIS_PREFIX "${keyPrefix}" may not hold "{": it would put every key in one cluster slot`)
  const topology = parseRedisUrl(url)
  const connection = { connectTimeout: 1_000, commandTimeout: 1_000, maxRetriesPerRequest: 1 }
  const retry = (times: number) => Math.min(times * 100, 1_000)
  const common = { keyPrefix, enableAutoPipelining: true, enableOfflineQueue: false }
  switch (topology.kind) {
    case 'single':
      return new Redis(url, { ...common, ...connection, lazyConnect: false, retryStrategy: retry })
    case 'sentinel': {
      const { kind: _, tls, ...where } = topology
      const secure = tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}
      return new Redis({ ...where, ...secure, ...common, ...connection, lazyConnect: false, retryStrategy: retry, sentinelRetryStrategy: retry })
    }
    case 'cluster': {
      const { nodes, username, password, tls } = topology
      return new Cluster(nodes, {
        ...common,
        clusterRetryStrategy: retry,
        // A failover moves slots: the client asks again after this instead of failing the command.
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        slotsRefreshTimeout: 1_000,
        redisOptions: { ...connection, username, password, ...(tls ? { tls: {} } : {}) },
      })
    }
  }
}

/** A cluster refuses a script or pipeline whose keys live in different slots (CROSSSLOT). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster
}

/**
 * True once the client's connection is up, false if it is not within `timeoutMs`. The client has no
 * offline queue (see createRedis): a command sent before this is true fails instead of waiting.
 */
export function whenRedisReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const ready = () => {
      clearTimeout(timer)
      resolve(true)
    }
    const timer = setTimeout(() => {
      redis.off('ready', ready)
      resolve(false)
    }, timeoutMs)
    redis.once('ready', ready)
  })
}

export const redisPlugin = fp(
  async (app: FastifyInstance, opts: { url: string; keyPrefix: string }) => {
    const redis = createRedis(opts.url, opts.keyPrefix)
    redis.on('error', (err) => app.log.debug({ err }, 'redis error'))
    app.decorate<RedisClient>('redis', redis)
    // Give the first connection a moment so the service starts ready, but start without Redis if
    // it is down: callers fail fast or fall back, and the client keeps reconnecting.
    await whenRedisReady(redis, 1_000)
    const registry = (app as FastifyInstance & { metrics?: Registry }).metrics
    if (registry) registerRedisMetrics(registry, redis)
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect())
    })
  },
  { name: 'redis', fastify: '5.x' },
)

export interface RedisGuard {
  /** Runs `fn` (one or a few Redis commands) or rejects within the timeout; rejects at once while Redis is known to fail. */
  run<T>(fn: () => Promise<T>): Promise<T>
  /** False while Redis is known to fail (not ready, or failed within the last retryMs). */
  usable(): boolean
}

/**
 * A deadline for the Redis calls a request can do without. A paused or cut-off Redis answers no
 * command, and the client's own commandTimeout (1 s) is far too long for a request to wait: past
 * `timeoutMs` the call rejects, and for `retryMs` after that every call rejects at once, so only
 * one request a second pays the timeout while Redis stays silent. `pauseOn: 'silence'` pauses only
 * after a call got no answer: a command Redis refused (a script error, OOM) fails alone.
 */
export function createRedisGuard(
  redis: RedisClient,
  opts: { timeoutMs: number; retryMs?: number; pauseOn?: 'failure' | 'silence'; onFailure?: (err: unknown) => void },
): RedisGuard {
  const retryMs = opts.retryMs ?? 1_000
  const pauseOnErrors = (opts.pauseOn ?? 'failure') === 'failure'
  let downUntil = 0
  const usable = () => redis.status === 'ready' && Date.now() >= downUntil
  const failed = (err: unknown, pause: boolean) => {
    if (pause) downUntil = Date.now() + retryMs
    opts.onFailure?.(err)
    return err
  }
  return {
    usable,
    run<T>(fn: () => Promise<T>): Promise<T> {
      if (!usable()) return Promise.reject(new Error(`redis is ${redis.status === 'ready' ? 'failing' : redis.status}; not asked`))
      return new Promise<T>((resolve, reject) => {
        let settled = false
        // A reply that arrived while the event loop was busy is read first, so only a Redis that
        // really did not answer counts as silent.
        const cancel = afterIoDeadline(opts.timeoutMs, () => {
          if (settled) return
          settled = true
          reject(failed(new Error(`redis did not answer within ${opts.timeoutMs} ms`), true))
        })
        fn().then(
          (value) => {
            cancel()
            if (settled) return
            settled = true
            resolve(value)
          },
          (err: unknown) => {
            cancel()
            if (settled) return
            settled = true
            reject(failed(err, pauseOnErrors))
          },
        )
      })
    },
  }
}

export async function pingRedis(redis: RedisClient): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`)
  await redis.ping()
}

function infoField(info: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info)
  return match?.[1] === undefined ? undefined : Number(match[1])
}

interface MemoryInfo {
  used: number
  max: number
  clients: number
}

async function memoryInfo(redis: Redis): Promise<MemoryInfo> {
  const info = await redis.info()
  return { used: infoField(info, 'used_memory') ?? 0, max: infoField(info, 'maxmemory') ?? 0, clients: infoField(info, 'connected_clients') ?? 0 }
}

/** On a cluster: the fullest primary's memory (the first to refuse writes) and every primary's clients. */
async function clusterMemoryInfo(cluster: Cluster): Promise<MemoryInfo> {
  const all = await Promise.all(cluster.nodes('master').map(memoryInfo))
  const ratio = (m: MemoryInfo) => (m.max > 0 ? m.used / m.max : 0)
  const fullest = all.reduce((a, b) => (ratio(b) > ratio(a) || (ratio(b) === ratio(a) && b.used > a.used) ? b : a))
  return { used: fullest.used, max: fullest.max, clients: all.reduce((sum, m) => sum + m.clients, 0) }
}

/** The manual's `INFO memory` / `INFO clients` checks as gauges (read on scrape, cached for 5 s). */
export function registerRedisMetrics(registry: Registry, redis: RedisClient): void {
  let cache = { at: 0, used: 0, max: 0, clients: 0 }
  async function read() {
    if (Date.now() - cache.at < 5_000 || redis.status !== 'ready') return cache
    cache = { at: Date.now(), ...(isCluster(redis) ? await clusterMemoryInfo(redis) : await memoryInfo(redis)) }
    return cache
  }
  const gauge = (name: string, help: string, pick: (c: typeof cache) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(pick(await read().catch(() => cache)))
      },
    })
  gauge('redis_memory_used_bytes', 'Redis used_memory (INFO memory)', (c) => c.used)
  gauge('redis_memory_max_bytes', 'Redis maxmemory (0 = no limit)', (c) => c.max)
  gauge('redis_connected_clients', 'Redis connected_clients (INFO clients)', (c) => c.clients)
}
