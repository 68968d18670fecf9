import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { healthRoutes } from '../src/health.js'

const app = Fastify()
const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:6379'), { code: 'ECONNREFUSED' })
await app.register(healthRoutes, {
  timeoutMs: 100,
  checks: {
    upstream: async () => {
      throw new Error('http://booking-2.internal:3002 is not ready (503)')
    },
    redis: async () => {
      throw refused
    },
    silent: () => new Promise(() => undefined),
  },
})
afterAll(() => app.close())

describe('a DOWN readiness answer', () => {
  it('when checks fail with errors naming internal addresses, then the answer names none of them', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(res.statusCode).toBe(503)
    expect(res.json().dependencies).toMatchObject({
      upstream: { status: 'DOWN', error: 'not ready' },
      redis: { status: 'DOWN', error: 'ECONNREFUSED' },
      silent: { status: 'DOWN', error: 'no answer within 100 ms' },
    })
    expect(res.body).not.toMatch(/10\.1\.2\.3|internal|http:|:3002|:6379/)
  })
})
