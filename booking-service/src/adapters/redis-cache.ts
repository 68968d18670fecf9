import { randomUUID } from 'node:crypto'
import { luaScript, scriptRunner } from '@tickets/contracts/lua-script'
import type { RedisClient, RedisGuard } from '@tickets/shared/redis'
import type { Cache } from '../domain/ports.js'

/** Deletes a lease only while `owner` holds it: one that expired and went to another process is not ours. */
const RELEASE_LEASE = luaScript(new URL('../../lua/', import.meta.url), {
  command: 'releaseLease',
  files: ['release-lease.lua'],
  keys: ['lease'],
  argv: ['owner'],
  reply: { integer: '1 deleted, 0 not ours' },
})

/**
 * The catalogue cache on Redis. Every call runs under the guard's deadline: a Redis that is down,
 * paused or slow costs a read at most REDIS_TIMEOUT_MS before it goes to the database (and then
 * nothing for a second), instead of the client's one-second command timeout per call.
 */
export function createRedisCache(redis: RedisClient, guard: RedisGuard): Cache {
  const owner = randomUUID()
  const run = scriptRunner(redis, [RELEASE_LEASE])
  return {
    get: (key) => guard.run(() => redis.get(key)),
    async set(key, value, ttlMs) {
      await guard.run(() => redis.set(key, value, 'PX', ttlMs))
    },
    async tryLock(key, ttlMs) {
      return (await guard.run(() => redis.set(key, owner, 'PX', ttlMs, 'NX'))) === 'OK'
    },
    async unlock(key) {
      await guard.run(() => run(RELEASE_LEASE, { lease: key }, { owner }))
    },
  }
}
