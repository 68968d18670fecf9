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

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const started = performance.now()
  const result = await work
  return [result, performance.now() - started]
}

// Probes often, so a test sees an instance come back soon, with time to answer that a starved
// machine (this process also runs the upstreams) still gives them.
const PROBES = { UPSTREAM_PROBE_INTERVAL_MS: '100', UPSTREAM_PROBE_TIMEOUT_MS: '1500' }

describe('one instance of a service', async () => {
  const queue = await anUpstream('queue')
  const payment = await anUpstream('payment')
  const booking = await anUpstream('booking')
  const { app } = await buildTestApp(import.meta.url, {
    ...PROBES,
    QUEUE_URLS: queue.url,
    BOOKING_URLS: booking.url,
    PAYMENT_URLS: payment.url,
    UPSTREAM_READ_TIMEOUT_MS: '400',
    UPSTREAM_TIMEOUT_MS: '1500',
    UPSTREAM_RETRY_AFTER_SECONDS: '3',
  })
  const auth = async (user: string) => ({ authorization: await bearer(user) })

  it('when it is killed mid-test, then 503 problems with Retry-After, and service resumes once a probe finds it back', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/points', headers: await auth('1') })).statusCode).toBe(200)
    await payment.stop()
    for (const req of [
      { method: 'GET' as const, url: '/api/points' },
      { method: 'POST' as const, url: '/api/points/charge', payload: { amount: 1 } },
      { method: 'GET' as const, url: '/api/payments/p1' },
    ]) {
      const res = await app.inject({ ...req, headers: await auth('1') })
      expectProblem(res, 503, 'COMMON_UPSTREAM_UNAVAILABLE')
      expect(res.headers['retry-after']).toBe('3')
    }
    expect((await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode).toBe(200)
    await payment.start()
    await expect.poll(async () => (await app.inject({ method: 'GET', url: '/api/points', headers: await auth('1') })).json().upstream, { timeout: 5_000 }).toBe('payment')
  })

  it('when it hangs, then a read is a 504 at its deadline, a fast 503 once ejected, and it is taken back when it answers', async () => {
    queue.mode = 'hang'
    try {
      const [res, elapsed] = await timed(app.inject({ method: 'GET', url: '/api/queue/token', headers: await auth('2') }))
      expectProblem(res, 504, 'COMMON_UPSTREAM_TIMEOUT')
      expect(elapsed).toBeGreaterThanOrEqual(390)
      expect(elapsed).toBeLessThan(3_000)
      await expect.poll(async () => (await app.inject({ method: 'GET', url: '/api/queue/token', headers: await auth('2') })).statusCode, { timeout: 5_000 }).toBe(503)
      const [refused, fast] = await timed(app.inject({ method: 'GET', url: '/api/queue/token', headers: await auth('2') }))
      expectProblem(refused, 503, 'COMMON_UPSTREAM_UNAVAILABLE')
      expect(refused.headers['retry-after']).toBe('3')
      expect(fast).toBeLessThan(390)
    } finally {
      queue.mode = 'answer'
    }
    await expect.poll(async () => (await app.inject({ method: 'GET', url: '/api/queue/token', headers: await auth('2') })).json().upstream, { timeout: 5_000 }).toBe('queue')
  })

  it('when it hangs on a write, then the write waits its own deadline, not the read one, and is a 504', async () => {
    booking.mode = 'hang'
    try {
      const headers = { ...(await auth('3')), ...(await activeQueueHeaders('3')) }
      const [res, elapsed] = await timed(app.inject({ method: 'POST', url: '/api/reservations', headers, payload: { scheduleId: 's', seatNumber: 1 } }))
      expect([503, 504]).toContain(res.statusCode)
      if (res.statusCode === 504) expect(elapsed).toBeGreaterThanOrEqual(1_490)
      expect(elapsed).toBeLessThan(4_000)
    } finally {
      booking.mode = 'answer'
    }
    await expect.poll(async () => (await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode, { timeout: 5_000 }).toBe(200)
  })

  it('when it answers a bare 503 while it shuts down, then the fan is still told when to come back', async () => {
    payment.mode = 'closing'
    try {
      const res = await app.inject({ method: 'GET', url: '/api/points', headers: await auth('4') })
      expect({ status: res.statusCode, retryAfter: res.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '3' })
    } finally {
      payment.mode = 'answer'
    }
  })

  const holdsReceived = () => booking.received.filter((r) => r.method === 'POST' && r.url === '/api/reservations').length

  it('when it dies while answering a POST, then 503 problem, not a raw 502', async () => {
    await expect.poll(async () => (await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode, { timeout: 5_000 }).toBe(200)
    booking.mode = 'stall'
    const holdsBefore = holdsReceived()
    const headers = { ...(await auth('3')), ...(await activeQueueHeaders('3')) }
    const sendHold = () => {
      const hold = { sent: app.inject({ method: 'POST', url: '/api/reservations', headers, payload: { scheduleId: 's', seatNumber: 1 } }), answered: false }
      void hold.sent.then(() => (hold.answered = true))
      return hold
    }
    let hold = sendHold()
    // The hold itself, counted: on a starved machine it may reach the instance seconds later. A probe
    // still out from the hang before may time out now and leave booking out for a moment: a hold
    // refused before it reached booking (a fast 503) is sent again.
    await expect
      .poll(
        () => {
          if (holdsReceived() > holdsBefore) return true
          if (hold.answered) hold = sendHold()
          return false
        },
        { timeout: 10_000 },
      )
      .toBe(true)
    expect(holdsReceived()).toBe(holdsBefore + 1)
    await booking.stop()
    expectProblem(await hold.sent, 503, 'COMMON_UPSTREAM_UNAVAILABLE')
    booking.mode = 'answer'
    await booking.start()
  })
})

describe('two instances of a service', async () => {
  const queue = await anUpstream('queue')
  const payment = await anUpstream('payment')
  const a = await anUpstream('booking-a')
  const b = await anUpstream('booking-b')
  // Probes far apart: what a test sees comes from the requests alone.
  const settings = { QUEUE_URLS: queue.url, PAYMENT_URLS: payment.url, BOOKING_URLS: `${a.url},${b.url}`, UPSTREAM_PROBE_INTERVAL_MS: '60000' }

  it('when one is down, then idempotent GETs are retried once on the other and all succeed', async () => {
    const { app } = await buildTestApp(import.meta.url, settings)
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

  it('when one hangs, then reads are answered by the other within the read deadline', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, UPSTREAM_READ_TIMEOUT_MS: '600' })
    a.mode = 'hang'
    try {
      const answers = await Promise.all(Array.from({ length: 6 }, () => timed(app.inject({ method: 'GET', url: '/api/concerts' }))))
      expect(answers.map(([r]) => r.json().upstream ?? r.body)).toEqual(Array(6).fill('booking-b'))
      for (const [, elapsed] of answers) expect(elapsed).toBeLessThan(3_000)
    } finally {
      a.mode = 'answer'
    }
  })

  it('when one is down, then a POST that reached it is not retried, and the instance is left out after', async () => {
    const { app } = await buildTestApp(import.meta.url, settings)
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

  it('when one answers a bare 503 while it shuts down, then the fan is told when to retry and the instance is left out', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, UPSTREAM_RETRY_AFTER_SECONDS: '3' })
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

  it('when a failed instance returns, then a probe takes it back and it gets requests again', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, ...PROBES })
    await a.stop()
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode).toBe(200)
    await a.start()
    await expect
      .poll(
        async () => {
          const seen = new Set<string>()
          for (let i = 0; i < 4; i++) seen.add((await app.inject({ method: 'GET', url: '/api/concerts' })).json().upstream)
          return seen
        },
        { timeout: 5_000 },
      )
      .toEqual(new Set(['booking-a', 'booking-b']))
  })

  it('when both stop answering, then every request is a fast 503 with Retry-After', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...settings, ...PROBES, UPSTREAM_READ_TIMEOUT_MS: '1000' })
    await Promise.all([a.stop(), b.stop()])
    try {
      await expect.poll(async () => (await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode, { timeout: 5_000 }).toBe(503)
      const [res, elapsed] = await timed(app.inject({ method: 'GET', url: '/api/concerts' }))
      expectProblem(res, 503, 'COMMON_UPSTREAM_UNAVAILABLE')
      expect(res.headers['retry-after']).toBeDefined()
      expect(elapsed).toBeLessThan(1_000)
    } finally {
      await Promise.all([a.start(), b.start()])
    }
  })
})
