import { signUserToken } from '@tickets/contracts/auth'
import { describe, expect, it } from 'vitest'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const upstream = await anUpstream('any')
const { app } = await buildTestApp(import.meta.url, { QUEUE_URLS: upstream.url, BOOKING_URLS: upstream.url, PAYMENT_URLS: upstream.url, LINE_SUMMARY_MAX_AGE_MS: '0' })
const authorization = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: 'cc-1' })}`

describe('Cache-Control on user data', () => {
  it('when a fan reads their own data, then every answer says no-store', async () => {
    for (const url of ['/api/points', '/api/payments/p-1', '/api/reservations/r-1', '/api/queue/token']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization } })
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['cache-control'], url).toBe('no-store')
    }
  })

  it('when a user route is refused, then the problem also says no-store', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/points' })
    expect(res.statusCode).toBe(401)
    expect(res.headers['cache-control']).toBe('no-store')
  })

  it('when the public catalogue is read, then the gateway leaves caching to the service', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/concerts' })
    expect(res.headers['cache-control']).toBeUndefined()
  })
})
