import { isolation, startThrowawayRedis } from '@tickets/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { CONCERTS_KEY } from '@tickets/contracts/line-keys'
import { aConcertId, buildTestApp, join, poll } from '../helpers/build-test-app.js'

const redis = await startThrowawayRedis()
afterAll(() => redis.dispose())
const app = await buildTestApp(isolation(import.meta.url), { REDIS_URL: redis.url })

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now()
  const result = await run()
  return { result, ms: performance.now() - started }
}

describe('when Redis stops', () => {
  it('then joins and polls answer 503 QUEUE_UNAVAILABLE with Retry-After within 200 ms, and work again once Redis is back', async () => {
    const concertId = aConcertId()
    const { token } = (await join(app, 'before', concertId)).json()

    await redis.stop()
    const joined = await timed(() => join(app, 'during', concertId))
    const polled = await timed(() => poll(app, 'before', token))
    for (const { result, ms } of [joined, polled]) {
      expect(result.statusCode).toBe(503)
      expect(result.headers['content-type']).toContain('application/problem+json')
      expect(result.json().code).toBe('QUEUE_UNAVAILABLE')
      expect(Number(result.headers['retry-after'])).toBeGreaterThan(0)
      expect(ms).toBeLessThan(200)
    }
    await expect.poll(async () => (await app.admin.inject({ method: 'GET', url: '/health/dependencies' })).statusCode, { timeout: 5_000, interval: 200 }).toBe(503)

    await redis.restart()
    await vi.waitFor(async () => expect((await join(app, 'after', concertId)).statusCode).toBe(201), { timeout: 10_000, interval: 100 })
    expect((await join(app, 'after', concertId)).json().position).toBe(1)
  })

  it('then a Redis that hangs gives 503 within 200 ms, not a hung request, and the next joins are refused at once', async () => {
    const concertId = aConcertId()
    await vi.waitFor(async () => expect((await join(app, 'warm', concertId)).statusCode).toBe(201), { timeout: 10_000, interval: 100 })
    await redis.pause()
    try {
      const { result, ms } = await timed(() => join(app, 'hung', concertId))
      expect(result.statusCode).toBe(503)
      expect(result.json().code).toBe('QUEUE_UNAVAILABLE')
      expect(ms).toBeLessThan(200)
      const next = await Promise.all(['hung-2', 'hung-3', 'hung-4'].map((user) => timed(() => join(app, user, concertId))))
      expect(next.map((n) => ({ status: n.result.statusCode, atOnce: n.ms < 50 }))).toEqual(Array(3).fill({ status: 503, atOnce: true }))
    } finally {
      redis.resume()
    }
  })

  it('then a Redis back empty has the line registered again by the next join, so admissions resume at once', async () => {
    const concertId = aConcertId()
    await vi.waitFor(async () => expect((await join(app, 'first', concertId)).statusCode).toBe(201), { timeout: 10_000, interval: 100 })
    const lines = () => app.redis.smembers(CONCERTS_KEY)
    expect(await lines()).toContain(concertId)

    await redis.stop()
    await redis.restart()
    await vi.waitFor(async () => expect((await join(app, 'again', concertId)).statusCode).toBe(201), { timeout: 10_000, interval: 100 })
    expect(await lines()).toContain(concertId)
  })
})
