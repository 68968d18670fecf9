import { queueActivityKey } from '@tickets/contracts/queue-token'
import { createRedis, whenRedisReady } from '@tickets/shared/redis'
import { isolation } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisSightings } from '../../src/adapters/redis-sightings.js'

const iso = isolation(import.meta.url)
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', iso.redisPrefix)
await whenRedisReady(redis, 2_000)
const log = createRedisSightings(redis, { keyOf: queueActivityKey, flushMs: 60_000 })
afterAll(async () => {
  await log.stop()
  redis.disconnect()
})

describe('createRedisSightings', () => {
  it("when fans are seen, then one flush refreshes only the line's ACTIVE fans and never moves a sighting back", async () => {
    const key = queueActivityKey('c1')
    const future = Date.now() + 3_600_000
    await redis.zadd(key, 0, 'active-fan', future, 'seen-later')
    log.seen('c1', 'active-fan')
    log.seen('c1', 'active-fan')
    log.seen('c1', 'not-active')
    log.seen('c1', 'seen-later')
    const before = Date.now()
    await log.flush()
    expect(Number(await redis.zscore(key, 'active-fan'))).toBeGreaterThanOrEqual(before)
    expect(await redis.zscore(key, 'not-active')).toBeNull()
    expect(Number(await redis.zscore(key, 'seen-later'))).toBe(future)
  })

  it('when Redis is not reachable, then seeing a fan costs nothing and the flush does not throw', async () => {
    const offline = createRedis('redis://127.0.0.1:1', iso.redisPrefix)
    const dead = createRedisSightings(offline, { keyOf: queueActivityKey, flushMs: 60_000 })
    dead.seen('c1', 'u1')
    await expect(dead.stop()).resolves.toBeUndefined()
    offline.disconnect()
  })
})
