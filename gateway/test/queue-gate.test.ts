import { signUserToken } from '@tickets/contracts/auth'
import { queueTokenKey, signQueueToken, type QueueTokenClaims } from '@tickets/contracts/queue-token'
import { startThrowawayRedis } from '@tickets/testkit'
import { SignJWT, UnsecuredJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const queue = await anUpstream('queue')
const booking = await anUpstream('booking')
const payment = await anUpstream('payment')
const upstreams = { QUEUE_URLS: queue.url, BOOKING_URLS: booking.url, PAYMENT_URLS: payment.url }
const { app } = await buildTestApp(import.meta.url, upstreams)
const lonelyRedis = await startThrowawayRedis()
afterAll(() => lonelyRedis.dispose())
const { app: lonely } = await buildTestApp(import.meta.url, { ...upstreams, REDIS_URL: lonelyRedis.url })

const CONCERT = 'c-1'
const seatsUrl = (concertId = CONCERT) => `/api/concerts/${concertId}/schedules/s-1/seats`
const now = () => Math.floor(Date.now() / 1000)
const claims = (over: Partial<QueueTokenClaims> = {}): QueueTokenClaims => ({
  userId: '7',
  concertId: CONCERT,
  status: 'ACTIVE',
  seq: 5,
  issuedAt: now(),
  expiresAt: now() + 600,
  ...over,
})
const activeToken = (over: Partial<QueueTokenClaims> = {}) => signQueueToken(queueTokenKey(TEST_SECRET), claims(over))
const bearer = async (userId = '7') => `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`

async function send(method: 'GET' | 'POST', url: string, queueToken: string | undefined, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { authorization: await bearer(), ...extra }
  if (queueToken !== undefined) headers['x-queue-token'] = queueToken
  return app.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) })
}

const received = () => booking.received.length + payment.received.length

describe('routes marked queue', () => {
  it('when a queue route is spelt another way, then it is gated or refused, never reaching a service without a token', async () => {
    const variants: ['GET' | 'POST', string][] = [
      ['GET', '/api/concerts/c-9/schedules/s/seats?x=1'],
      ['GET', '/api/concerts/c-9/schedules/s/seats/'],
      ['GET', '//api//concerts/c-9/schedules/s/SEATS'],
      ['GET', '/api/concerts/c%2D9/schedules/s/%73eats'],
      ['GET', '/API/concerts/c-9/schedules/s/seats'],
      ['GET', '/api/concerts/c-9/schedules/s/./seats'],
      ['POST', '/api/reservations'],
      ['POST', '/api/reservations/'],
      ['POST', '/api/Reservations'],
      ['POST', '/api/payments/'],
      ['POST', '/api/payments?x=1'],
      ['POST', '/api/%70ayments'],
    ]
    const before = received()
    for (const [method, url] of variants) {
      const res = await send(method, url, undefined)
      expect([401, 404, 400], `${method} ${url}`).toContain(res.statusCode)
      if (res.statusCode === 401) expect(res.json().code).toBe('QUEUE_TOKEN_MISSING')
    }
    expect(received()).toBe(before)
  })

  it('when the path names its concert escaped, then the gate compares the concert the service will read', async () => {
    const token = await activeToken({ concertId: 'c-9' })
    expect((await send('GET', '/api/concerts/c%2D9/schedules/s/seats', token)).statusCode).toBe(200)
    expect((await send('GET', '/api/concerts/c%2D8/schedules/s/seats', token)).statusCode).toBe(403)
    expect([400, 403]).toContain((await send('GET', '/api/concerts/c%E0/schedules/s/seats', token)).statusCode)
  })

  it("when the ACTIVE token is valid, then the request reaches the service with the gate's concert header", async () => {
    const token = await activeToken()
    const seats = await send('GET', seatsUrl(), token, { 'x-queue-concert-id': 'forged' })
    expect(seats.statusCode).toBe(200)
    expect(seats.json().signed).toBe(true)
    expect(booking.received.at(-1)?.headers['x-queue-concert-id']).toBe(CONCERT)
    const pay = await send('POST', '/api/payments', token)
    expect(pay.statusCode).toBe(200)
    expect(payment.received.at(-1)?.headers['x-queue-concert-id']).toBe(CONCERT)
  })

  it('when a route is not marked queue, then no queue token is needed and a client copy of the header is dropped', async () => {
    const res = await send('GET', '/api/reservations/r-1', undefined, { 'x-queue-concert-id': 'forged' })
    expect(res.statusCode).toBe(200)
    expect(booking.received.at(-1)?.headers['x-queue-concert-id']).toBeUndefined()
  })

  const key = queueTokenKey(TEST_SECRET)
  const cases: Record<string, { make: () => Promise<string | undefined>; status: number; code: string; url?: string }> = {
    missing: { make: async () => undefined, status: 401, code: 'QUEUE_TOKEN_MISSING' },
    'forged with another secret': { make: () => signQueueToken(queueTokenKey('another-secret-that-is-long-enough-too'), claims()), status: 401, code: 'QUEUE_TOKEN_INVALID' },
    'signed with the user-token key': { make: () => signQueueToken(new TextEncoder().encode(TEST_SECRET), claims()), status: 401, code: 'QUEUE_TOKEN_INVALID' },
    'a user token': { make: () => signUserToken({ secret: TEST_SECRET, userId: '7' }), status: 401, code: 'QUEUE_TOKEN_INVALID' },
    tampered: {
      make: async () => {
        const [h, , s] = (await activeToken({ status: 'WAITING' })).split('.')
        const body = Buffer.from(JSON.stringify({ cid: CONCERT, st: 'ACTIVE', seq: 5, iss: 'tickets-queue', sub: '7', jti: '5a', iat: now(), exp: now() + 600 })).toString(
          'base64url',
        )
        return `${h}.${body}.${s}`
      },
      status: 401,
      code: 'QUEUE_TOKEN_INVALID',
    },
    'alg none': {
      make: async () =>
        new UnsecuredJWT({ cid: CONCERT, st: 'ACTIVE', seq: 5 }).setIssuer('tickets-queue').setSubject('7').setJti('5a').setIssuedAt().setExpirationTime('10m').encode(),
      status: 401,
      code: 'QUEUE_TOKEN_INVALID',
    },
    'HS512 with the right key': {
      make: () =>
        new SignJWT({ cid: CONCERT, st: 'ACTIVE', seq: 5 })
          .setProtectedHeader({ alg: 'HS512' })
          .setIssuer('tickets-queue')
          .setSubject('7')
          .setJti('5a')
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(key),
      status: 401,
      code: 'QUEUE_TOKEN_INVALID',
    },
    expired: { make: () => activeToken({ issuedAt: now() - 700, expiresAt: now() - 100 }), status: 401, code: 'QUEUE_TOKEN_EXPIRED' },
    'still WAITING': { make: () => activeToken({ status: 'WAITING', expiresAt: now() + 86_400 }), status: 403, code: 'QUEUE_NOT_ACTIVE' },
    "another user's": { make: () => activeToken({ userId: '8' }), status: 403, code: 'QUEUE_TOKEN_FORBIDDEN' },
    "another concert's": { make: () => activeToken({ concertId: 'c-2' }), status: 403, code: 'QUEUE_TOKEN_FORBIDDEN' },
    'not a JWT': { make: async () => 'garbage', status: 401, code: 'QUEUE_TOKEN_INVALID' },
  }
  for (const [name, c] of Object.entries(cases)) {
    it(`when the queue token is ${name}, then ${c.status} ${c.code} and nothing reaches the service`, async () => {
      const token = await c.make()
      for (const [method, url] of [
        ['GET', seatsUrl()],
        ['POST', '/api/reservations'],
        ['POST', '/api/payments'],
      ] as const) {
        if (name === "another concert's" && method === 'POST') continue
        const before = received()
        const res = await send(method, url, token)
        expect(res.statusCode).toBe(c.status)
        expect(res.headers['content-type']).toContain('application/problem+json')
        expect(res.json().code).toBe(c.code)
        expect(received()).toBe(before)
      }
    })
  }

  it('when the admission ended early (paid or given up), then the token is revoked, but a later admission works', async () => {
    const userId = '9'
    await app.redis.set(`{q:${CONCERT}}:rev:${userId}`, '5', 'PX', 60_000)
    const before = received()
    const old = await send('GET', seatsUrl(), await activeToken({ userId, seq: 5 }), { authorization: await bearer(userId) })
    expect(old.statusCode).toBe(401)
    expect(old.json().code).toBe('QUEUE_TOKEN_REVOKED')
    expect(received()).toBe(before)
    const later = await send('GET', seatsUrl(), await activeToken({ userId, seq: 6 }), { authorization: await bearer(userId) })
    expect(later.statusCode).toBe(200)
  })
})

describe('when the gateway cannot reach Redis', () => {
  it('then signed ACTIVE tokens keep working until they expire (manual 3.3.1), and bad tokens are still refused', async () => {
    await lonelyRedis.stop()
    const headers = { authorization: await bearer(), 'x-queue-token': await activeToken() }
    const ok = await lonely.inject({ method: 'GET', url: seatsUrl(), headers })
    expect(ok.statusCode).toBe(200)
    const expired = await lonely.inject({
      method: 'GET',
      url: seatsUrl(),
      headers: { ...headers, 'x-queue-token': await activeToken({ issuedAt: now() - 700, expiresAt: now() - 1 }) },
    })
    expect(expired.statusCode).toBe(401)
    const metrics = await lonely.admin.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.body).toMatch(/^gateway_queue_revocation_unchecked_total(\{[^}]*\})? [1-9]/m)
  })
})
