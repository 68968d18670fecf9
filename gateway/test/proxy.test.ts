import { signUserToken } from '@tickets/contracts/auth'
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
  BODY_LIMIT_BYTES: '2048',
})
const base = await app.listen({ port: 0, host: '127.0.0.1' })
const bearer = async (userId: string) => `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): { code: string; traceId: string; status: number } }, status: number, code: string) {
  expect(res.statusCode).toBe(status)
  expect(res.headers['content-type']).toContain('application/problem+json')
  expect(res.json().code).toBe(code)
  expect(res.json().status).toBe(status)
  expect(res.json().traceId).toMatch(/^[0-9a-f]{32}$/)
}

describe('proxying /api to the services', () => {
  it('when a public route is called, then it reaches its service', async () => {
    const auth = { authorization: await bearer('7') }
    expect((await app.inject({ method: 'GET', url: '/api/queue/token', headers: auth })).json().upstream).toBe('queue')
    expect((await app.inject({ method: 'GET', url: '/api/points', headers: auth })).json().upstream).toBe('payment')
    expect((await app.inject({ method: 'GET', url: '/api/payments/abc', headers: auth })).json().upstream).toBe('payment')
    expect((await app.inject({ method: 'GET', url: '/api/reservations/abc', headers: auth })).json().upstream).toMatch(/^booking-/)
  })

  it('when a service has two instances, then requests are balanced across them', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) seen.add((await app.inject({ method: 'GET', url: '/api/concerts' })).json().upstream)
    expect(seen).toEqual(new Set(['booking-a', 'booking-b']))
  })

  it('when the catalogue is read without a token, then it is served with no user', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/concerts/c1/schedules?x=1' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ userId: null, url: '/api/concerts/c1/schedules?x=1' })
  })

  it('when a JSON body is sent, then the service receives it', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/points/charge', headers: { authorization: await bearer('3') }, payload: { amount: 5 } })
    expect(res.json().body).toEqual({ amount: 5 })
  })

  it("when the client sends x-user-id or x-queue-concert-id, then only the gateway's values reach the service", async () => {
    const before = payment.received.length
    const res = await app.inject({
      method: 'GET',
      url: '/api/points',
      headers: { authorization: await bearer('42'), 'x-user-id': '1', 'X-Queue-Concert-Id': 'c-forged' },
    })
    expect(res.json().userId).toBe('42')
    expect(payment.received[before]?.headers['x-queue-concert-id']).toBeUndefined()
  })

  it("when any route is proxied, then it carries the gateway's signature over what the gateway asserts", async () => {
    const auth = { authorization: await bearer('5') }
    const answers = [
      await app.inject({ method: 'GET', url: '/api/concerts/c1/schedules?x=1' }),
      await app.inject({ method: 'GET', url: '/api/points', headers: { ...auth, 'x-gateway-signature': '9999999999999.forged' } }),
      await app.inject({ method: 'POST', url: '/api/points/charge', headers: auth, payload: { amount: 5 } }),
      await app.inject({ method: 'GET', url: '/api/concerts/%7Bc%7D/schedules' }),
      await app.inject({ method: 'GET', url: '/api/concerts/{c}|"x/schedules' }),
    ]
    expect(answers.map((r) => r.json().signed)).toEqual([true, true, true, true, true])
  })

  it('when a public route is called with a forged x-user-id, then the service sees no user', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/concerts', headers: { 'x-user-id': '1' } })
    expect(res.json().userId).toBeNull()
  })

  // Through a real connection: the client's ids are dropped as the request arrives (own-request-ids.ts).
  it('when a client sends its own request id, then the gateway makes its own, passes it on and returns it', async () => {
    const before = payment.received.length
    const res = await fetch(`${base}/api/points`, { headers: { authorization: await bearer('1'), 'x-request-id': 'req-123' } })
    const own = res.headers.get('x-request-id')
    expect(own).toMatch(/^[0-9a-f-]{36}$/)
    expect(payment.received[before]?.headers['x-request-id']).toBe(own)
  })

  // In-process tests run untraced (no collector): the correlation id must still be one id per hop.
  it('when untraced, then the service gets a traceparent carrying the trace id the gateway reported', async () => {
    const before = payment.received.length
    const res = await fetch(`${base}/api/points`, { headers: { authorization: await bearer('1') } })
    const traceId = res.headers.get('x-trace-id')
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(payment.received[before]?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
  })

  it('when a client sends trace headers, then none reaches the service and the gateway makes its own', async () => {
    const sent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const before = payment.received.length
    const res = await fetch(`${base}/api/points`, { headers: { authorization: await bearer('1'), traceparent: sent, tracestate: 'k=v', baggage: 'user=admin' } })
    const traceId = res.headers.get('x-trace-id')
    expect(traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    const received = payment.received[before]!.headers
    expect(received.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
    expect(received.tracestate).toBeUndefined()
    expect(received.baggage).toBeUndefined()
  })
})

describe('what the gateway refuses itself', () => {
  it('when a path is not in the public API, then 404 problem and nothing reaches a service', async () => {
    const before = bookingA.received.length + bookingB.received.length
    for (const url of ['/api/concerts/c1/secret', '/api/internal/openapi.json', '/nope', '/api/concerts/c1/schedules/s1/seats/x']) {
      expectProblem(await app.inject({ method: 'GET', url }), 404, 'COMMON_NOT_FOUND')
    }
    expect(bookingA.received.length + bookingB.received.length).toBe(before)
  })

  it('when the method is not one the route has, then 405 problem with Allow', async () => {
    const res = await app.inject({ method: 'PUT', url: '/api/concerts' })
    expectProblem(res, 405, 'COMMON_METHOD_NOT_ALLOWED')
    expect(res.headers.allow).toBe('GET')
  })

  it('when a path has dot segments, then it is refused before any service', async () => {
    const before = bookingA.received.length + bookingB.received.length
    for (const url of ['/api/reservations/%2e%2e', '/api/reservations/..', '/api/reservations/.%2E', '/api/concerts/%2E/schedules']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: await bearer('1') } })
      expect([400, 404]).toContain(res.statusCode)
      expect(res.headers['content-type']).toContain('application/problem+json')
    }
    expect(bookingA.received.length + bookingB.received.length).toBe(before)
  })

  it('when the body is larger than BODY_LIMIT_BYTES, then 413 problem', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/points/charge',
      headers: { authorization: await bearer('1'), 'content-type': 'application/json' },
      payload: JSON.stringify({ a: 'x'.repeat(5000) }),
    })
    expectProblem(res, 413, 'COMMON_BODY_TOO_LARGE')
  })

  it('when the body is not valid JSON, then 400 problem before any service', async () => {
    const before = payment.received.length
    const res = await app.inject({
      method: 'POST',
      url: '/api/points/charge',
      headers: { authorization: await bearer('1'), 'content-type': 'application/json' },
      payload: '{"amount":',
    })
    expectProblem(res, 400, 'COMMON_BAD_JSON')
    expect(payment.received.length).toBe(before)
  })

  it('when the body has a prototype-poisoning key, then it is refused', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/points/charge',
      headers: { authorization: await bearer('1'), 'content-type': 'application/json' },
      payload: '{"__proto__":{"admin":true}}',
    })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
  })

  it('when the content type is not JSON, then 415 problem', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/points/charge', headers: { authorization: await bearer('1'), 'content-type': 'application/xml' }, payload: '<a/>' })
    expectProblem(res, 415, 'COMMON_UNSUPPORTED_MEDIA_TYPE')
  })
})

describe('security headers', () => {
  it('when any answer leaves the gateway, then it carries the API security headers, no CSP and none of the document-only ones', async () => {
    for (const res of [await app.inject({ method: 'GET', url: '/api/concerts' }), await app.inject({ method: 'GET', url: '/api/points' })]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
      expect(res.headers['strict-transport-security']).toContain('max-age=')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
      expect(res.headers['cross-origin-resource-policy']).toBe('same-site')
      expect(res.headers['content-security-policy']).toBeUndefined()
      for (const documentOnly of ['x-xss-protection', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-dns-prefetch-control', 'origin-agent-cluster']) {
        expect(res.headers[documentOnly]).toBeUndefined()
      }
    }
  })
})

describe('the admin listener', () => {
  it('GET /health/dependencies reports Redis and each service instance', async () => {
    const res = await app.admin.inject({ method: 'GET', url: '/health/dependencies' })
    expect(res.statusCode).toBe(200)
    expect(Object.keys(res.json().dependencies).sort()).toEqual(['booking-1', 'booking-2', 'payment', 'queue', 'redis'])
  })

  it('when an instance is down, then dependency health names it DOWN and readiness stays 200', async () => {
    const other = await anUpstream('payment-down')
    await other.stop()
    const { app: gateway } = await buildTestApp(import.meta.url, { QUEUE_URLS: queue.url, BOOKING_URLS: bookingA.url, PAYMENT_URLS: other.url })
    await gateway.listen({ port: 0, host: '127.0.0.1' })
    const res = await gateway.admin.inject({ method: 'GET', url: '/health/dependencies' })
    expect(res.statusCode).toBe(503)
    expect(res.json().dependencies.payment.status).toBe('DOWN')
    expect(res.json().dependencies.booking.status).toBe('UP')
    expect(JSON.stringify(res.json())).not.toContain(other.url)
    expect((await gateway.admin.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({ status: 'UP' })
  })

  it('the public port answers /health and serves neither readiness, dependency health nor metrics', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'UP' })
    for (const url of ['/health/ready', '/health/dependencies', '/metrics']) expect((await app.inject({ method: 'GET', url })).json().code).toBe('COMMON_NOT_FOUND')
  })
})
