import { randomUUID } from 'node:crypto'
import type { RedisClient, RedisGuard } from '@tickets/shared/redis'
import type { Cache } from '../domain/ports.js'

/**
 * The catalogue cache on Redis. Every call runs under the guard's deadline: a Redis that is down,
 * paused or slow costs a read at most REDIS_TIMEOUT_MS before it goes to the database (and then
 * nothing for a second), instead of the client's one-second command timeout per call.
 */
export function createRedisCache(redis: RedisClient, guard: RedisGuard): Cache {
  const owner = randomUUID()
  return {
    get: (key) => guard.run(() => redis.get(key)),
    async set(key, value, ttlMs) {
      await guard.run(() => redis.set(key, value, 'PX', ttlMs))
    },
    async tryLock(key, ttlMs) {
      return (await guard.run(() => redis.set(key, owner, 'PX', ttlMs, 'NX'))) === 'OK'
    },
    async unlock(key) {
      // Only our own lease: one that expired and went to another process is not ours to delete.
      await guard.run(() => redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, owner))
    },
  }
}
