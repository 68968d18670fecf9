import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Cache } from '../domain/ports.js'

/** The catalogue cache on Redis; the client fails fast while Redis is down (see @tickets/shared/redis). */
export function createRedisCache(redis: Redis): Cache {
  const owner = randomUUID()
  return {
    get: (key) => redis.get(key),
    async set(key, value, ttlMs) {
      await redis.set(key, value, 'PX', ttlMs)
    },
    async tryLock(key, ttlMs) {
      return (await redis.set(key, owner, 'PX', ttlMs, 'NX')) === 'OK'
    },
    async unlock(key) {
      // Only our own lease: one that expired and went to another process is not ours to delete.
      await redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, owner)
    },
  }
}
