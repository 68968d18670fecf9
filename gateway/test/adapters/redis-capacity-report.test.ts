import { GATEWAY_CAPACITY_KEY, totalCapacity } from '@tickets/contracts/answer-capacity'
import { createRedis, createRedisGuard, whenRedisReady } from '@tickets/shared/redis'
import { isolation } from '@tickets/testkit'
import Fastify from 'fastify'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { reportCapacity } from '../../src/adapters/redis-capacity-report.js'

const iso = isolation(import.meta.url)
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', iso.redisPrefix)
await whenRedisReady(redis, 2_000)
const app = Fastify()
app.get('/work', async () => {
  // Each answer keeps the event loop busy for 2 ms: the gateway measures about 500 a second.
  const until = performance.now() + 2
  while (performance.now() < until);
  return 'done'
})
const report = reportCapacity(app, redis, { instance: 'gateway-t', intervalMs: 300, guard: createRedisGuard(redis, { timeoutMs: 500 }) })
afterAll(async () => {
  await report.stop()
  await app.close()
  redis.disconnect()
})

describe('reportCapacity', () => {
  it('when the gateway is busy, then it reports under its own name how many requests a second it could answer', async () => {
    const busyUntil = Date.now() + 1_000
    while (Date.now() < busyUntil) await Promise.all(Array.from({ length: 20 }, () => app.inject({ url: '/work' })))
    await vi.waitFor(async () => expect(Object.keys(await redis.hgetall(GATEWAY_CAPACITY_KEY))).toHaveLength(1), { timeout: 3_000, interval: 100 })
    const reports = await redis.hgetall(GATEWAY_CAPACITY_KEY)
    expect(Object.keys(reports)[0]).toMatch(/^gateway-t@/)
    // 2 ms of work each: at most 500 a second on a free core, fewer on a busy machine, never none.
    const capacity = totalCapacity(reports, Date.now())!
    expect(capacity).toBeGreaterThan(0)
    expect(capacity).toBeLessThanOrEqual(600)
  })
})
