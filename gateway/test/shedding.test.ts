import { signUserToken } from '@tickets/contracts/auth'
import { describe, expect, it } from 'vitest'
import { activeQueueHeaders, buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const upstream = await anUpstream('any')
const urls = { QUEUE_URLS: upstream.url, BOOKING_URLS: upstream.url, PAYMENT_URLS: upstream.url, SHED_SAMPLE_INTERVAL_MS: '500', SHED_RETRY_AFTER_SECONDS: '4' }

/** Keeps this process's event loop busy: blocks `busyMs` out of every `busyMs + 10` ms. */
function hogEventLoop(busyMs: number): () => void {
  const timer = setInterval(() => {
    const until = performance.now() + busyMs
    while (performance.now() < until) {
      /* busy */
    }
  }, 10)
  return () => clearInterval(timer)
}

async function underLoad(app: Awaited<ReturnType<typeof buildTestApp>>['app'], overloaded: () => boolean) {
  await app.ready()
  await new Promise((r) => setTimeout(r, 1_050))
  const stop = hogEventLoop(60)
  try {
    await expect.poll(overloaded, { timeout: 5_000, interval: 20 }).toBe(true)
    const authorization = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: '1' })}`
    const [join, payment, health, dependencies, metrics] = await Promise.all([
      app.inject({ method: 'POST', url: '/api/queue/token', headers: { authorization }, payload: { concertId: 'c1' } }),
      app.inject({
        method: 'POST',
        url: '/api/payments',
        headers: { authorization, 'idempotency-key': 'k1', ...(await activeQueueHeaders('1')) },
        payload: { reservationId: 'r1' },
      }),
      app.inject({ method: 'GET', url: '/health' }),
      app.admin.inject({ method: 'GET', url: '/health/dependencies' }),
      app.admin.inject({ method: 'GET', url: '/metrics' }),
    ])
    return { join, payment, health, dependencies, metrics }
  } finally {
    stop()
  }
}

describe('load shedding', () => {
  it('when the gateway has just started, then start-up work is not overload; shedding starts after a clean sample', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...urls, SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: '1', SHED_MAX_EVENT_LOOP_DELAY_MS: '1' })
    await app.ready()
    const stop = hogEventLoop(60)
    try {
      await expect.poll(() => app.memoryUsage().eventLoopDelay > 1, { timeout: 900, interval: 10 }).toBe(true)
      const authorization = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: '1' })}`
      const join = () => app.inject({ method: 'POST', url: '/api/queue/token', headers: { authorization }, payload: { concertId: 'c1' } })
      expect((await join()).statusCode).toBe(200)
      await expect.poll(async () => (await join()).statusCode, { timeout: 5_000, interval: 100 }).toBe(503)
    } finally {
      stop()
    }
  })

  it('when the loop delay passes only the join threshold, then joins get 503 while payments, health and metrics pass', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...urls, SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: '15', SHED_MAX_EVENT_LOOP_DELAY_MS: '60000' })
    const r = await underLoad(app, () => app.memoryUsage().eventLoopDelay > 15)
    expect(r.join.statusCode).toBe(503)
    expect(r.join.headers['content-type']).toContain('application/problem+json')
    expect(r.join.headers['retry-after']).toBe('4')
    expect(r.join.json().code).toBe('COMMON_OVERLOADED')
    expect(r.payment.statusCode, r.payment.body).toBe(200)
    expect([r.health.statusCode, r.dependencies.statusCode, r.metrics.statusCode]).toEqual([200, 200, 200])
    expect((await app.admin.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/gateway_shed_total\{class="join"[^}]*\} [1-9]/)
  })

  it('when the event-loop delay passes every threshold, then payments are shed too but health and metrics still answer', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...urls, SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: '10', SHED_MAX_EVENT_LOOP_DELAY_MS: '15' })
    const r = await underLoad(app, () => app.memoryUsage().eventLoopDelay > 15)
    expect(r.join.statusCode).toBe(503)
    expect(r.payment.statusCode).toBe(503)
    expect(r.payment.json().code).toBe('COMMON_OVERLOADED')
    expect([r.health.statusCode, r.dependencies.statusCode, r.metrics.statusCode]).toEqual([200, 200, 200])
  })

  it('when event-loop utilisation passes the join threshold only, then joins are shed and payments are not', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...urls, SHED_JOIN_MAX_EVENT_LOOP_UTILIZATION: '0.5', SHED_MAX_EVENT_LOOP_UTILIZATION: '1' })
    const r = await underLoad(app, () => app.memoryUsage().eventLoopUtilized > 0.5)
    expect(r.join.statusCode).toBe(503)
    expect(r.payment.statusCode).toBe(200)
  })

  it('when the load is gone, then joins are served again', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...urls, SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: '15' })
    await underLoad(app, () => app.memoryUsage().eventLoopDelay > 15)
    await expect.poll(() => app.memoryUsage().eventLoopDelay, { timeout: 5_000, interval: 50 }).toBeLessThanOrEqual(15)
    const authorization = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: '1' })}`
    expect((await app.inject({ method: 'POST', url: '/api/queue/token', headers: { authorization }, payload: { concertId: 'c1' } })).statusCode).toBe(200)
  })
})
