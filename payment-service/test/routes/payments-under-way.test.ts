import { request as httpRequest } from 'node:http'
import { RPC } from '@tickets/contracts/events'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/build-test-app.js'
import { charge, metricValue, pay } from '../helpers/payments.js'
import { fromGateway } from '@tickets/testkit'

const { app } = await buildTestApp(import.meta.url, { BOOKING_RPC_TIMEOUT_MS: '600', BOOKING_RPC_ATTEMPT_MS: '600', PAYMENTS_UNDER_WAY_MAX: '2' })
// A booking that takes BEGIN and never answers (this file's own NATS namespace): a payment waits the whole RPC timeout.
app.nats.nc.subscribe(app.nats.names.subject(RPC.BEGIN_PAYMENT), { callback: () => {} })

describe('POST /api/payments while PAYMENTS_UNDER_WAY_MAX payments are under way', () => {
  it('when two payments are under way, then a third is a prompt 503 that claims no key, taken once they end', async () => {
    await charge(app, 'w1', 50_000, 'seed')
    const first = pay(app, 'w1', 'r-1', 'k-1')
    const second = pay(app, 'w1', 'r-2', 'k-2')
    await new Promise((r) => setTimeout(r, 100))
    expect(await metricValue(app, 'payments_under_way')).toBe(2)

    const started = performance.now()
    const third = await pay(app, 'w1', 'r-3', 'k-3')
    expect(performance.now() - started).toBeLessThan(100)
    expect(third.statusCode).toBe(503)
    expect(third.json().code).toBe('COMMON_OVERLOADED')
    expect(third.headers['retry-after']).toBe('1')
    const [keys] = await app.pool.query<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM idempotency_keys WHERE idem_key = 'k-3'")
    expect(Number(keys!.n)).toBe(0)
    expect(await metricValue(app, 'payments_refused_busy_total')).toBe(1)

    // Both end with booking's silence; none is under way any more, and the same key is run this time.
    expect((await first).json().code).toBe('PAYMENT_BOOKING_UNAVAILABLE')
    expect((await second).json().code).toBe('PAYMENT_BOOKING_UNAVAILABLE')
    expect(await metricValue(app, 'payments_under_way')).toBe(0)
    expect((await pay(app, 'w1', 'r-3', 'k-3')).json().code).toBe('PAYMENT_BOOKING_UNAVAILABLE')
  })

  it('when a fan goes away while the payment is under way, then its place is given back once', async () => {
    await charge(app, 'w3', 50_000, 'seed')
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const { headers } = fromGateway({ method: 'POST', url: '/api/payments', headers: { 'x-user-id': 'w3', 'idempotency-key': 'gone', 'content-type': 'application/json' } })
    const gone = httpRequest(`${address}/api/payments`, { method: 'POST', headers })
    gone.on('error', () => {})
    gone.end(JSON.stringify({ reservationId: 'r-gone' }))
    await new Promise((r) => setTimeout(r, 100))
    expect(await metricValue(app, 'payments_under_way')).toBe(1)
    gone.destroy()
    // The abandoned payment's work still ends with booking's silence; the count stays right after it.
    await new Promise((r) => setTimeout(r, 700))
    expect(await metricValue(app, 'payments_under_way')).toBe(0)
    const both = await Promise.all([pay(app, 'w3', 'r-4', 'k-4'), pay(app, 'w3', 'r-5', 'k-5')])
    expect(both.map((r) => r.json().code)).toEqual(['PAYMENT_BOOKING_UNAVAILABLE', 'PAYMENT_BOOKING_UNAVAILABLE'])
  })

  it('when requests that are not payments run, then they are not counted', async () => {
    const reads = await Promise.all([1, 2, 3, 4].map(() => app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': 'w2' } }))))
    expect(reads.map((r) => r.statusCode)).toEqual([200, 200, 200, 200])
    expect(await metricValue(app, 'payments_refused_busy_total')).toBe(1)
  })
})
