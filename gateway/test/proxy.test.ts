import { signUserToken } from '@tickets/shared/auth'
import { SignJWT, UnsecuredJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const queue = await anUpstream('queue')
const bookingA = await anUpstream('booking-a')
const bookingB = await anUpstream('booking-b')
const payment = await anUpstream('payment')
const { app } = await buildTestApp(import.meta.url, {
  QUEUE_URLS: queue.url,
  BOOKING_URLS: `${bookingA.url},${bookingB.url}`,
  PAYMENT_URLS: payment.url,
})
const bearer = async (userId: string) => `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`

describe('proxying /api to the services', () => {
  it('routes each prefix to its service', async () => {
    const auth = { authorization: await bearer('7') }
    expect((await app.inject({ method: 'GET', url: '/api/queue/token', headers: auth })).json().upstream).toBe('queue')
    expect((await app.inject({ method: 'GET', url: '/api/points', headers: auth })).json().upstream).toBe('payment')
    expect((await app.inject({ method: 'GET', url: '/api/payments/abc', headers: auth })).json().upstream).toBe('payment')
    expect((await app.inject({ method: 'GET', url: '/api/reservations/abc', headers: auth })).json().upstream).toMatch(/^booking-/)
  })

  it('balances requests across the instances of a service', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) seen.add((await app.inject({ method: 'GET', url: '/api/concerts' })).json().upstream)
    expect(seen).toEqual(new Set(['booking-a', 'booking-b']))
  })

  it('serves catalogue reads without a user', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/concerts/c1/schedules' })
    expect(res.statusCode).toBe(200)
    expect(res.json().userId).toBeNull()
  })

  it('passes the user id from the token and drops a copy the client sent', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/points', headers: { authorization: await bearer('42'), 'x-user-id': '1' } })
    expect(res.json().userId).toBe('42')
  })

  it('passes the request id on and returns it', async () => {
    const before = payment.received.length
    const res = await app.inject({ method: 'GET', url: '/api/points', headers: { authorization: await bearer('1'), 'x-request-id': 'req-123' } })
    expect(res.headers['x-request-id']).toBe('req-123')
    expect(payment.received[before]?.headers['x-request-id']).toBe('req-123')
  })
})

describe('user identity', () => {
  const badTokens: Record<string, () => Promise<string>> = {
    'no token': async () => '',
    'not a bearer': async () => 'Basic dXNlcjpwYXNz',
    'signed with another secret': async () => `Bearer ${await signUserToken({ secret: 'another-secret-that-is-long-enough-xx', userId: '1' })}`,
    'alg none': async () => `Bearer ${new UnsecuredJWT({}).setSubject('1').setExpirationTime('1h').encode()}`,
    expired: async () =>
      `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(new TextEncoder().encode(TEST_SECRET))}`,
    'no exp': async () => `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('1').sign(new TextEncoder().encode(TEST_SECRET))}`,
    'HS512 instead of HS256': async () =>
      `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('1').setExpirationTime('1h').sign(new TextEncoder().encode(TEST_SECRET))}`,
    tampered: async () => {
      const [h, , s] = (await signUserToken({ secret: TEST_SECRET, userId: '1' })).split('.')
      const payload = Buffer.from(JSON.stringify({ sub: '2', exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url')
      return `Bearer ${h}.${payload}.${s}`
    },
  }
  for (const [name, make] of Object.entries(badTokens)) {
    it(`when the token is ${name}, then 401 problem and nothing reaches the service`, async () => {
      const before = payment.received.length
      const authorization = await make()
      const res = await app.inject({ method: 'GET', url: '/api/points', headers: authorization ? { authorization } : {} })
      expect(res.statusCode).toBe(401)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.json().code).toMatch(/^AUTH_/)
      expect(payment.received.length).toBe(before)
    })
  }
})

describe('GET /health/ready', () => {
  it('reports Redis and each service instance', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(res.statusCode).toBe(200)
    expect(Object.keys(res.json().dependencies).sort()).toEqual(['booking-1', 'booking-2', 'payment', 'queue', 'redis'])
  })
})
