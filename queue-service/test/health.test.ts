import { loadConfig } from '@tickets/shared/config'
import { isolation, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { ConfigSchema } from '../src/config.js'

const iso = isolation(import.meta.url)
const app = await buildApp(
  loadConfig(ConfigSchema, {
    INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    AUTH_JWT_SECRET: 'x'.repeat(32),
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    LOG_LEVEL: 'silent',
  }),
  {
    defaultMetrics: false,
  },
)
afterAll(() => app.close())

describe('the admin listener', () => {
  it('GET /health/dependencies reports redis and nats UP', async () => {
    const res = await app.admin.inject({ method: 'GET', url: '/health/dependencies' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'UP', dependencies: { redis: { status: 'UP' }, nats: { status: 'UP' } } })
  })

  it('exposes Prometheus metrics with the request-duration histogram', async () => {
    await app.inject({ method: 'GET', url: '/nope' })
    const res = await app.admin.inject({ method: 'GET', url: '/metrics' })
    expect(res.body).toContain('http_request_duration_seconds_bucket')
    expect(res.body).toMatch(/route="unmatched"/)
  })

  it('exposes Redis memory and clients and each dependency as gauges', async () => {
    const body = (await app.admin.inject({ method: 'GET', url: '/metrics' })).body
    expect(Number(/^redis_memory_used_bytes\{[^}]*\} (\d+)/m.exec(body)?.[1])).toBeGreaterThan(0)
    expect(Number(/^redis_connected_clients\{[^}]*\} (\d+)/m.exec(body)?.[1])).toBeGreaterThan(0)
    expect(body).toMatch(/^dependency_up\{[^}]*dependency="redis"[^}]*\} 1$/m)
    expect(body).toMatch(/^dependency_up\{[^}]*dependency="nats"[^}]*\} 1$/m)
  })
})
