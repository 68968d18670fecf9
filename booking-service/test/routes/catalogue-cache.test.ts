import { createRedis, createRedisGuard } from '@tickets/shared/redis'
import { freePort, startThrowawayRedis, fromGateway } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisCache } from '../../src/adapters/redis-cache.js'
import { createCachedReader } from '../../src/domain/cached-reader.js'
import { warmCatalogueCache } from '../../src/ops.js'
import { aConcert, hold } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'

const redis = await startThrowawayRedis()
afterAll(() => redis.dispose())
const { app, url, iso } = await buildTestApp(import.meta.url, { REDIS_URL: redis.url, SWEEP_INTERVAL_MS: '0' })

const schedulesOf = async (concertId: string) => {
  const res = await app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concertId}/schedules` }))
  expect(res.statusCode).toBe(200)
  return res.json().schedules as { scheduleId: string; availableSeats: number }[]
}

describe('the catalogue cache', () => {
  it('when a seat is held, then availableSeats shows it within a second', async () => {
    const { concertId, scheduleId } = await aConcert(app, { seats: 10 })
    expect((await schedulesOf(concertId))[0]!.availableSeats).toBe(10)
    await hold(app, 'u', scheduleId, 1)
    await expect.poll(async () => (await schedulesOf(concertId))[0]!.availableSeats, { timeout: 1_000, interval: 50 }).toBe(9)
  })

  it('when the list was read once, then it is served from Redis', async () => {
    await app.inject(fromGateway({ method: 'GET', url: '/api/concerts' }))
    expect(JSON.parse((await app.redis.get('catalogue:concerts')) ?? 'null')).toEqual(expect.arrayContaining([expect.objectContaining({ concertId: expect.any(String) })]))
  })

  it('when a cold key is read by 200 callers in two processes at once, then the database is asked once', async () => {
    const clients = [createRedis(redis.url, iso.redisPrefix), createRedis(redis.url, iso.redisPrefix)]
    await Promise.all(clients.map((c) => new Promise((r) => c.once('ready', r))))
    const readers = clients.map((c) => createCachedReader({ cache: createRedisCache(c, createRedisGuard(c, { timeoutMs: 1_000 })) }))
    let loads = 0
    const load = async () => {
      loads++
      await new Promise((r) => setTimeout(r, 50))
      return { value: 42 }
    }
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => readers[i % 2]!.read('cold:key', 10_000, load)))
    expect(results.every((r) => r.value === 42)).toBe(true)
    expect(loads).toBe(1)
    for (const c of clients) c.disconnect()
  })

  it("when a cold key's lease holder never fills it, then a reader waits at most 250 ms and fills it itself", async () => {
    const client = createRedis(redis.url, iso.redisPrefix)
    await new Promise((r) => client.once('ready', r))
    await client.set('lock:orphan:key', 'a process that lost Redis', 'PX', 5_000)
    const reader = createCachedReader({ cache: createRedisCache(client, createRedisGuard(client, { timeoutMs: 1_000 })) })
    let loads = 0
    const load = async () => {
      loads++
      return { value: 7 }
    }
    const started = performance.now()
    expect(await reader.read('orphan:key', 10_000, load)).toEqual({ value: 7 })
    expect(performance.now() - started).toBeLessThan(400)
    expect(await reader.read('orphan:key', 10_000, load)).toEqual({ value: 7 })
    expect(loads).toBe(1)
    client.disconnect()
  })

  it("when a lease is released, then only the holder's release deletes it", async () => {
    const client = createRedis(redis.url, iso.redisPrefix)
    await new Promise((r) => client.once('ready', r))
    const [holder, other] = [0, 1].map(() => createRedisCache(client, createRedisGuard(client, { timeoutMs: 1_000 })))
    expect(await holder!.tryLock('lease:key', 5_000)).toBe(true)
    await other!.unlock('lease:key')
    expect(await other!.tryLock('lease:key', 5_000)).toBe(false)
    await holder!.unlock('lease:key')
    expect(await other!.tryLock('lease:key', 5_000)).toBe(true)
    client.disconnect()
  })

  it('when warm-cache runs, then the list and every date are in Redis before anyone asks', async () => {
    const { concertId } = await aConcert(app)
    const result = await warmCatalogueCache({ mysqlUrl: url, redisUrl: redis.url, redisPrefix: iso.redisPrefix, ttlSeconds: 60 })
    expect(result.concerts).toBeGreaterThan(0)
    expect(await app.redis.get(`catalogue:schedules:${concertId}`)).toContain(concertId)
    expect(await app.redis.pttl(`catalogue:schedules:${concertId}`)).toBeGreaterThan(50_000)
  })

  it('when warm-cache cannot reach Redis, then it fails saying so instead of reporting a warm cache', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`
    await expect(warmCatalogueCache({ mysqlUrl: url, redisUrl: nowhere, redisPrefix: iso.redisPrefix })).rejects.toThrow(`Redis at ${nowhere} is not reachable`)
  })

  it('when Redis is stopped, then the catalogue, the dates and the ranking still answer from the database', async () => {
    const { concertId, scheduleId } = await aConcert(app, { seats: 5 })
    await redis.stop()
    try {
      const concerts = await app.inject(fromGateway({ method: 'GET', url: '/api/concerts' }))
      expect(concerts.statusCode).toBe(200)
      expect(concerts.json().concerts.map((c: { concertId: string }) => c.concertId)).toContain(concertId)
      expect((await schedulesOf(concertId))[0]!.availableSeats).toBe(5)
      await hold(app, 'v', scheduleId, 2)
      expect((await schedulesOf(concertId))[0]!.availableSeats).toBe(4)
      expect((await app.inject(fromGateway({ method: 'GET', url: '/api/concerts/ranking' }))).statusCode).toBe(200)
      expect((await app.inject(fromGateway({ method: 'GET', url: '/api/concerts/no-such/schedules' }))).statusCode).toBe(404)
    } finally {
      await redis.restart()
    }
    await expect.poll(async () => (await app.admin.inject({ method: 'GET', url: '/health/dependencies' })).statusCode, { timeout: 5_000 }).toBe(200)
  })

  it('when Redis is paused, then the catalogue, the dates, the seat map and a hold answer from the database within 250 ms', async () => {
    const { concertId, scheduleId } = await aConcert(app, { seats: 5 })
    expect((await schedulesOf(concertId))[0]!.availableSeats).toBe(5)
    await redis.pause()
    try {
      const requests = [
        () => app.inject(fromGateway({ method: 'GET', url: '/api/concerts' })),
        () => app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concertId}/schedules` })),
        () => app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concertId}/schedules/${scheduleId}/seats` })),
        () => hold(app, 'w', scheduleId, 3),
        () => app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concertId}/schedules` })),
      ]
      for (const request of requests) {
        const started = performance.now()
        const res = await request()
        expect(res.statusCode, res.body).toBeLessThan(300)
        expect(performance.now() - started).toBeLessThan(250)
      }
    } finally {
      redis.resume()
    }
    await expect.poll(async () => (await app.admin.inject({ method: 'GET', url: '/health/dependencies' })).statusCode, { timeout: 5_000 }).toBe(200)
  })
})
