// The waiting room's answers at the gateway when the line's Redis stops answering: a fast 503 that
// says when to come back, never a hang, and answers again once Redis is back.
import { signUserToken } from '@tickets/contracts/auth'
import { queueLineSummaryKey } from '@tickets/contracts/queue-line'
import { startThrowawayRedis } from '@tickets/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const redis = await startThrowawayRedis()
afterAll(() => redis.dispose())
const queue = await anUpstream('queue')
const { app, iso } = await buildTestApp(import.meta.url, {
  REDIS_URL: redis.url,
  QUEUE_URLS: queue.url,
  BOOKING_URLS: queue.url,
  PAYMENT_URLS: queue.url,
  LINE_SUMMARY_REFRESH_MS: '50',
  LINE_SUMMARY_MAX_AGE_MS: '60000',
})
const writer = new Redis(redis.url, { keyPrefix: iso.redisPrefix })
afterAll(() => writer.quit())

// What an admission step of the queue service leaves for the gateway (a line that runs).
const step = (at: number) =>
  writer.hset(queueLineSummaryKey('c1'), {
    at,
    head: '',
    tail: 0,
    waiting: 0,
    rate: '',
    dev: '',
    eff: '50',
    reason: '',
    open: '0',
    free: 100,
    held: 0,
    ob: 1.5,
    dr: 50,
    ttl: 600_000,
    wttl: 86_400,
  })
const join = async (user: string) =>
  app.inject({
    method: 'POST',
    url: '/api/queue/token',
    headers: { authorization: `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: user })}` },
    payload: { concertId: 'c1' },
  })
const answeredHere = async () => ((await app.metrics.getSingleMetric('gateway_queue_answers_total')?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0)

describe('the waiting room at the gateway, with its Redis down', () => {
  it('when Redis hangs, then a join is a fast 503 QUEUE_UNAVAILABLE with Retry-After, and answered again once it is back', async () => {
    let at = 1
    await vi.waitFor(
      async () => {
        await step(at++)
        const before = await answeredHere()
        expect((await join('r1')).statusCode).toBe(201)
        expect(await answeredHere()).toBe(before + 1)
      },
      { timeout: 5_000, interval: 100 },
    )

    await redis.pause()
    try {
      const started = performance.now()
      const refused = await join('r2')
      expect(performance.now() - started).toBeLessThan(1_000)
      expect(refused.statusCode).toBe(503)
      expect(refused.headers['content-type']).toContain('application/problem+json')
      expect(refused.json().code).toBe('QUEUE_UNAVAILABLE')
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    } finally {
      redis.resume()
    }

    await vi.waitFor(
      async () => {
        const before = await answeredHere()
        expect((await join('r2')).statusCode).toBe(201)
        expect(await answeredHere()).toBe(before + 1)
      },
      { timeout: 5_000, interval: 200 },
    )
  })
})
