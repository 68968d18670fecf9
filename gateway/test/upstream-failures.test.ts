import { signUserToken } from '@tickets/contracts/auth'
import { describe, expect, it } from 'vitest'
import { activeQueueHeaders, buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const bearer = async (userId: string) => `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`
type Res = { statusCode: number; headers: Record<string, unknown>; json(): { code: string; traceId: string } }

function expectProblem(res: Res, status: number, code: string) {
  expect(res.statusCode).toBe(status)
  expect(res.headers['content-type']).toContain('application/problem+json')
  expect(res.json().code).toBe(code)
  expect(res.json().traceId).toMatch(/^[0-9a-f]{32}$/)
}

describe('one instance of a service', async () => {
  const queue = await anUpstream('queue')
  const payment = await anUpstream('payment')
  const booking = await anUpstream('booking')
  const { app } = await buildTestApp(import.meta.url, {
    QUEUE_URLS: queue.url,
    BOOKING_URLS: booking.url,
    PAYMENT_URLS: payment.url,
    UPSTREAM_TIMEOUT_MS: '400',
    UPSTREAM_RETRY_AFTER_SECONDS: '3',
  })

  it('when it is killed mid-test, then 503 problems with Retry-After, and service resumes when it returns', async () => {
    const auth = { authorization: await bearer('1') }
    expect((await app.inject({ method: 'GET', url: '/api/points', headers: auth })).statusCode).toBe(200)
    await payment.stop()
    for (const req of [
      { method: 'GET' as const, url: '/api/points' },
      { method: 'POST' as const, url: '/api/points/charge', payload: { amount: 1 } },
      { method: 'GET' as const, url: '/api/payments/p1' },
    ]) {
      const res = await app.inject({ ...req, headers: auth })
      expectProblem(res, 503, 'COMMON_UPSTREAM_UNAVAILABLE')
      expect(res.headers['retry-after']).toBe('3')
    }
    expect((await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode).toBe(200)
    await payment.start()
    expect((await app.inject({ method: 'GET', url: '/api/points', headers: auth })).json().upstream).toBe('payment')
  })

  it('when it hangs, then 504 problem at UPSTREAM_TIMEOUT_MS, and service resumes when it answers again', async () => {
    queue.mode = 'hang'
    const started = performance.now()
    const res = await app.inject({ method: 'GET', url: '/api/queue/token', headers: { authorization: await bearer('2') } })
    const elapsed = performance.now() - started
    expectProblem(res, 504, 'COMMON_UPSTREAM_TIMEOUT')
    expect(elapsed).toBeGreaterThanOrEqual(390)
    expect(elapsed).toBeLessThan(5_000)
    queue.mode = 'answer'
    expect((await app.inject({ method: 'GET', url: '/api/queue/token', headers: { authorization: await bearer('2') } })).json().upstream).toBe('queue')
  })

  it('when it answers a bare 503 while it shuts down, then the fan is still told when to come back', async () => {
    payment.mode = 'closing'
    try {
      const res = await app.inject({ method: 'GET', url: '/api/points', headers: { authorization: await bearer('4') } })
      expect({ status: res.statusCode, retryAfter: res.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '3' })
    } finally {
      payment.mode = 'answer'
    }
  })

  it('when it dies while answering a POST, then 503 problem, not a raw 502', async () => {
    booking.mode = 'hang'
    const pending = app.inject({
      method: 'POST',
      url: '/api/reservations',
      headers: { authorization: await bearer('3'), ...(await activeQueueHeaders('3')) },
      payload: { scheduleId: 's', seatNumber: 1 },
    })
    await expect.poll(() => booking.received.at(-1)?.method, { timeout: 2_000 }).toBe('POST')
    await booking.stop()
    expectProblem(await pending, 503, 'COMMON_UPSTREAM_UNAVAILABLE')
    booking.mode = 'answer'
    await booking.start()
  })
})

describe('two instances of a service', async () => {
  const queue = await anUpstream('queue')
  const payment = await anUpstream('payment')
  const a = await anUpstream('booking-a')
  const b = await anUpstream('booking-b')
  const settings = { QUEUE_URLS: queue.url, PAYMENT_URLS: payment.url, BOOKING_URLS: `${a.url},${b.url}` }

  it('when one is down, then idempotent GETs are retried once on the other and all succeed', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, UPSTREAM_EJECT_MS: '0' })
    await a.stop()
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => app.inject({ method: 'GET', url: '/api/concerts' })))
      expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200])
      expect(results.every((r) => r.json().upstream === 'booking-b')).toBe(true)
      const metrics = (await app.admin.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toMatch(/gateway_upstream_retries_total\{upstream="booking"[^}]*\} [1-9]/)
    } finally {
      await a.start()
    }
  })

  it('when one is down, then a POST that reached it is not retried, and the instance is skipped for a while after', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, BOOKING_URLS: `${a.url},${b.url}`, UPSTREAM_EJECT_MS: '60000' })
    await a.stop()
    try {
      const auth = { authorization: await bearer('9'), ...(await activeQueueHeaders('9')) }
      const onB = b.received.length
      const first = await app.inject({ method: 'POST', url: '/api/reservations', headers: auth, payload: { scheduleId: 's', seatNumber: 1 } })
      expectProblem(first, 503, 'COMMON_UPSTREAM_UNAVAILABLE')
      expect(b.received.length).toBe(onB)
      for (let i = 0; i < 4; i++) {
        expect((await app.inject({ method: 'POST', url: '/api/reservations', headers: auth, payload: { scheduleId: 's', seatNumber: 1 } })).json().upstream).toBe('booking-b')
      }
    } finally {
      await a.start()
    }
  })

  it('when one answers a bare 503 while it shuts down, then that fan is told when to come back and the instance is skipped after', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, UPSTREAM_EJECT_MS: '60000', UPSTREAM_RETRY_AFTER_SECONDS: '3' })
    a.mode = 'closing'
    try {
      const answers: { status: number; retryAfter: unknown; upstream?: string }[] = []
      for (let i = 0; i < 6; i++) {
        const res = await app.inject({ method: 'GET', url: '/api/concerts' })
        answers.push({ status: res.statusCode, retryAfter: res.headers['retry-after'], upstream: res.statusCode === 200 ? res.json().upstream : undefined })
      }
      const refused = answers.findIndex((r) => r.status === 503)
      expect(refused).toBeGreaterThanOrEqual(0)
      expect(refused).toBeLessThan(2)
      expect(answers[refused]!.retryAfter).toBe('3')
      expect(answers.filter((r) => r.status === 503)).toHaveLength(1)
      expect(answers.slice(refused + 1).map((r) => r.upstream)).toEqual(Array(5 - refused).fill('booking-b'))
    } finally {
      a.mode = 'answer'
    }
  })

  it('when a failed instance returns, then it gets requests again after the ejection time', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, UPSTREAM_EJECT_MS: '300' })
    await a.stop()
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode).toBe(200)
    await a.start()
    await new Promise((r) => setTimeout(r, 350))
    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) seen.add((await app.inject({ method: 'GET', url: '/api/concerts' })).json().upstream)
    expect(seen).toEqual(new Set(['booking-a', 'booking-b']))
  })
})
