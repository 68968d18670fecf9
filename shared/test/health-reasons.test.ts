import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { adminListener } from '../src/admin.js'
import { metricsPlugin } from '../src/metrics.js'

const app = Fastify()
const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:6379'), { code: 'ECONNREFUSED' })
await app.register(metricsPlugin, { service: 'health-reasons', defaultMetrics: false })
await app.register(adminListener, {
  service: 'health-reasons',
  server: { logLevel: 'silent' },
  health: {
    timeoutMs: 100,
    cacheMs: 0,
    checks: {
      upstream: async () => {
        throw new Error('http://booking-2.internal:3002 is not ready (503)')
      },
      redis: async () => {
        throw refused
      },
      silent: () => new Promise(() => undefined),
    },
  },
})
afterAll(() => app.close())

describe('a DOWN dependency health answer', () => {
  it('when checks fail with errors naming internal addresses, then the answer names none of them', async () => {
    const res = await app.admin.inject({ method: 'GET', url: '/health/dependencies' })
    expect(res.statusCode).toBe(503)
    expect(res.json().dependencies).toMatchObject({
      upstream: { status: 'DOWN', error: 'not ready' },
      redis: { status: 'DOWN', error: 'ECONNREFUSED' },
      silent: { status: 'DOWN', error: 'no answer within 100 ms' },
    })
    expect(res.body).not.toMatch(/10\.1\.2\.3|internal|http:|:3002|:6379/)
  })
})
