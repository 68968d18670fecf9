import { Histogram, Registry, Gauge } from 'prom-client'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { p95OfDelta, PRESSURE_KEY, readPressure, startPressureReporter } from '../src/pressure.js'
import { createRedis, whenRedisReady } from '../src/redis.js'
import { isolation } from '@tickets/testkit'

const iso = isolation(import.meta.url)
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', iso.redisPrefix)
afterAll(async () => {
  await redis.del(PRESSURE_KEY)
  redis.disconnect()
})

const buckets = (pairs: [number, number][]) => new Map(pairs)

describe('p95OfDelta', () => {
  it('when requests fell in the buckets since the last read, then the p95 is interpolated inside its bucket', () => {
    const before = buckets([
      [0.1, 10],
      [0.2, 10],
      [0.5, 10],
      [Infinity, 10],
    ])
    const after = buckets([
      [0.1, 60],
      [0.2, 100],
      [0.5, 110],
      [Infinity, 110],
    ])
    // 100 new: 50 under 100 ms, 40 in 100-200 ms, 10 in 200-500 ms; the 95th is halfway into the last.
    expect(p95OfDelta(before, after)).toEqual({ p95Ms: 350, samples: 100 })
  })

  it('when nothing new was measured, then no p95', () => {
    const same = buckets([
      [0.1, 5],
      [Infinity, 5],
    ])
    expect(p95OfDelta(same, same)).toEqual({ p95Ms: null, samples: 0 })
  })
})

describe('startPressureReporter', () => {
  it('when a watched route is slow and requests wait for the pool, then Redis holds a report readers see while fresh', async () => {
    await whenRedisReady(redis, 2_000)
    const registry = new Registry()
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'h',
      labelNames: ['route', 'method', 'status_code'],
      buckets: [0.1, 0.2, 0.5, 1],
      registers: [registry],
    })
    new Gauge({
      name: 'db_pool_pending_requests',
      help: 'g',
      registers: [registry],
      collect() {
        this.set(4)
      },
    })
    const reporter = startPressureReporter({ redis, registry, service: 'booking', instance: 'booking-7', intervalMs: 50, watch: { method: 'POST', route: '/api/reservations' } })
    // Slow holds keep coming while the test waits, so whichever report it reads has seen some.
    const traffic = setInterval(() => {
      for (let i = 0; i < 20; i++) duration.observe({ route: '/api/reservations', method: 'POST', status_code: i % 2 ? '201' : '409' }, 0.7)
      duration.observe({ route: '/api/concerts', method: 'GET', status_code: '200' }, 0.01)
    }, 5)
    try {
      await vi.waitFor(async () => {
        const [report] = await readPressure(redis, Date.now(), 5_000)
        expect(report).toMatchObject({ service: 'booking', instance: 'booking-7', poolWaiters: 4, shed: 0 })
        expect(report!.samples % 20).toBe(0)
        expect(report!.samples).toBeGreaterThan(0)
        expect(report!.p95Ms).toBeGreaterThan(500)
      })
    } finally {
      clearInterval(traffic)
      await reporter.stop()
    }
    expect(await readPressure(redis, Date.now() + 10_000, 5_000)).toEqual([])
  })
})
