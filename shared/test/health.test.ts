import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { healthRoutes } from '../src/health.js'
import { createRedis, pingRedis } from '../src/redis.js'
import { startThrowawayRedis, type ThrowawayServer } from '@tickets/testkit'

let redisServer: ThrowawayServer & { dispose(): Promise<void> }
let redis: ReturnType<typeof createRedis>
const app = Fastify()

beforeAll(async () => {
  redisServer = await startThrowawayRedis()
  redis = createRedis(redisServer.url, 'health:')
  redis.on('error', () => undefined)
  await app.register(healthRoutes, { timeoutMs: 300, checks: { redis: () => pingRedis(redis), always: async () => undefined } })
})
afterAll(async () => {
  await app.close()
  redis.disconnect()
  await redisServer.dispose()
})

async function waitForStatus(status: number) {
  for (let i = 0; i < 100; i++) {
    const res = await app.inject({ method: 'GET', url: '/health/ready' })
    if (res.statusCode === status) return res
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`readiness never became ${status}`)
}

describe('GET /health/ready', () => {
  it('when every dependency answers, then 200 with each UP', async () => {
    const res = await waitForStatus(200)
    expect(res.json()).toMatchObject({ status: 'UP', dependencies: { redis: { status: 'UP' }, always: { status: 'UP' } } })
  })

  it('when Redis stops, then 503 with redis DOWN; when it returns, UP again without a restart', async () => {
    await redisServer.stop()
    const down = await waitForStatus(503)
    expect(down.json()).toMatchObject({ status: 'DOWN', dependencies: { redis: { status: 'DOWN' }, always: { status: 'UP' } } })
    await redisServer.restart()
    const up = await waitForStatus(200)
    expect(up.json().dependencies.redis.status).toBe('UP')
  })

  it('when Redis hangs, then the ping times out as DOWN instead of hanging readiness', async () => {
    await waitForStatus(200)
    await redisServer.pause()
    try {
      const started = Date.now()
      const res = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(res.statusCode).toBe(503)
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      redisServer.resume()
    }
  })

  it('/health answers without touching dependencies', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' })
    expect(res.json()).toEqual({ status: 'UP' })
  })
})
