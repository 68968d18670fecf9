import { describe, expect, it } from 'vitest'
import { createRedis, whenRedisReady } from '../src/redis.js'
import { freePort, isolation } from '@tickets/testkit'

const iso = isolation(import.meta.url)

describe('waiting for a Redis connection (no offline queue: commands before it fail)', () => {
  it('when Redis answers, then it is ready, also when asked again once connected', async () => {
    const redis = createRedis('redis://127.0.0.1:6379', iso.redisPrefix)
    try {
      expect(await whenRedisReady(redis, 5_000)).toBe(true)
      expect(await whenRedisReady(redis, 1)).toBe(true)
      expect(await redis.incr('n')).toBe(1)
    } finally {
      await redis.del('n')
      redis.disconnect()
    }
  })

  it('when nothing listens, then false after the timeout, and no listener is left behind', async () => {
    const redis = createRedis(`redis://127.0.0.1:${await freePort()}`, iso.redisPrefix)
    redis.on('error', () => undefined)
    try {
      expect(await whenRedisReady(redis, 300)).toBe(false)
      expect(redis.listenerCount('ready')).toBe(0)
    } finally {
      redis.disconnect()
    }
  })
})
