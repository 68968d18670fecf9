import { get } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminListener } from '../src/admin.js'
import { DEPENDENCY_BUSY, liveRoute, type DependencyCheck } from '../src/health.js'
import { metricsPlugin } from '../src/metrics.js'
import { createRedis, pingRedis } from '../src/redis.js'
import { startThrowawayRedis, type ThrowawayServer } from '@tickets/testkit'

let redisServer: ThrowawayServer & { dispose(): Promise<void> }
let redis: ReturnType<typeof createRedis>

async function anApp(checks: Record<string, DependencyCheck>, cacheMs = 0): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(metricsPlugin, { service: 'health-test', defaultMetrics: false })
  await app.register(liveRoute)
  await app.register(adminListener, { service: 'health-test', server: { logLevel: 'silent' }, health: { checks, timeoutMs: 300, cacheMs } })
  return app
}

let app: FastifyInstance
beforeAll(async () => {
  redisServer = await startThrowawayRedis()
  redis = createRedis(redisServer.url, 'health:')
  redis.on('error', () => undefined)
  app = await anApp({ redis: () => pingRedis(redis), always: async () => undefined })
  await app.listen({ port: 0, host: '127.0.0.1' })
})
afterAll(async () => {
  await app.close()
  redis.disconnect()
  await redisServer.dispose()
})

const dependencies = () => app.admin.inject({ method: 'GET', url: '/health/dependencies' })
const ready = () => app.admin.inject({ method: 'GET', url: '/health/ready' })

async function waitForStatus(status: number) {
  for (let i = 0; i < 100; i++) {
    const res = await dependencies()
    if (res.statusCode === status) return res
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`dependency health never became ${status}`)
}

describe('GET /health/dependencies (admin listener)', () => {
  it('when every dependency answers, then 200 with each UP', async () => {
    const res = await waitForStatus(200)
    expect(res.json()).toMatchObject({ status: 'UP', dependencies: { redis: { status: 'UP' }, always: { status: 'UP' } } })
  })

  it('when Redis stops, then 503 with redis DOWN while readiness stays 200; when it returns, UP again', async () => {
    await redisServer.stop()
    const down = await waitForStatus(503)
    expect(down.json()).toMatchObject({ status: 'DOWN', dependencies: { redis: { status: 'DOWN' }, always: { status: 'UP' } } })
    expect((await ready()).json()).toEqual({ status: 'UP' })
    expect((await app.admin.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^dependency_up\{[^}]*dependency="redis"[^}]*\} 0$/m)
    await redisServer.restart()
    const up = await waitForStatus(200)
    expect(up.json().dependencies.redis.status).toBe('UP')
  })

  it('when Redis hangs, then the ping times out as DOWN instead of hanging the route', async () => {
    await waitForStatus(200)
    await redisServer.pause()
    try {
      const started = Date.now()
      expect((await dependencies()).statusCode).toBe(503)
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      redisServer.resume()
    }
  })

  it('when many ask at once and again within the cache time, then each dependency is pinged once', async () => {
    let pings = 0
    const cached = await anApp({ counted: async () => void pings++ }, 60_000)
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => cached.admin.inject({ method: 'GET', url: '/health/dependencies' })))
      await cached.admin.inject({ method: 'GET', url: '/metrics' })
      expect(answers.map((a) => a.statusCode)).toEqual(Array(50).fill(200))
      expect(pings).toBe(1)
    } finally {
      await cached.close()
    }
  })

  it('when a check declares its dependency busy, then it is BUSY, the whole is UP and dependency_up keeps its last value', async () => {
    let busy = false
    const busyApp = await anApp({ database: async () => (busy ? DEPENDENCY_BUSY : undefined) })
    try {
      const metric = async () => /^dependency_up\{[^}]*\} (\d)$/m.exec((await busyApp.admin.inject({ method: 'GET', url: '/metrics' })).body)?.[1]
      expect(await metric()).toBe('1')
      busy = true
      const res = await busyApp.admin.inject({ method: 'GET', url: '/health/dependencies' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ status: 'UP', dependencies: { database: { status: 'BUSY' } } })
      expect(await metric()).toBe('1')
    } finally {
      await busyApp.close()
    }
  })
})

describe('GET /health/ready (admin listener)', () => {
  it('when the public port is not listening yet, then 503 STARTING; once it listens, 200', async () => {
    const starting = await anApp({})
    try {
      const before = await starting.admin.inject({ method: 'GET', url: '/health/ready' })
      expect(before.statusCode).toBe(503)
      expect(before.json()).toEqual({ status: 'STARTING' })
      await starting.listen({ port: 0, host: '127.0.0.1' })
      expect((await starting.admin.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
    } finally {
      await starting.close()
    }
  })

  it('when the app drains, then 503 DRAINING until the public port closed, and the admin listener closes after it', async () => {
    const draining = await anApp({})
    let finish: () => void = () => undefined
    draining.get('/slow', () => new Promise((resolve) => (finish = () => resolve({ ok: true }))))
    const url = await draining.listen({ port: 0, host: '127.0.0.1' })
    const adminUrl = await draining.admin.listen({ port: 0, host: '127.0.0.1' })
    // One request per connection: a kept-alive idle connection would hold the drain open (not what this test is about).
    const slow = new Promise<number>((resolve, reject) => get(`${url}/slow`, { agent: false }, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject))
    await new Promise((r) => setTimeout(r, 100))
    const closed = draining.close()
    const res = await fetch(`${adminUrl}/health/ready`)
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ status: 'DRAINING' })
    finish()
    expect(await slow).toBe(200)
    await closed
    await expect(fetch(`${adminUrl}/health/ready`)).rejects.toThrow()
  })
})

describe('the public port', () => {
  it('answers /health without touching a dependency, and serves neither readiness, dependency health nor metrics', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'UP' })
    for (const url of ['/health/ready', '/health/live', '/health/dependencies', '/metrics']) expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404)
  })
})
