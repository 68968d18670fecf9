import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/build-test-app.js'
import { balanceOf, charge, ledgerSum, metricValue, pay } from '../helpers/payments.js'
import { fromGateway } from '@tickets/testkit'

// No booking service listens in this file's NATS namespace: every request to it goes unanswered.
const { app } = await buildTestApp(import.meta.url, { BOOKING_RPC_TIMEOUT_MS: '300' })

describe('POST /api/payments when booking does not answer', () => {
  it('when booking is unreachable, then 503 PAYMENT_BOOKING_UNAVAILABLE, nothing is charged, and the same key may be retried', async () => {
    await charge(app, 'n1', 50_000, 'seed')
    const res = await pay(app, 'n1', 'r-1', 'p-1')
    expect(res.statusCode).toBe(503)
    expect(res.json().code).toBe('PAYMENT_BOOKING_UNAVAILABLE')
    expect(await balanceOf(app, 'n1')).toBe(50_000)
    expect(await ledgerSum(app, 'n1')).toBe(50_000)
    // A failure on our side is not kept: the retry runs again instead of replaying the 503.
    const retry = await pay(app, 'n1', 'r-1', 'p-1')
    expect(retry.statusCode).toBe(503)
    expect(retry.headers['idempotent-replayed']).toBeUndefined()
    expect(await metricValue(app, 'payments_total', { outcome: 'booking_unavailable' })).toBe(2)
  })
})

describe('POST /api/payments input', () => {
  it('when the key is missing, then 400 IDEMPOTENCY_KEY_MISSING', async () => {
    const res = await app.inject(fromGateway({ method: 'POST', url: '/api/payments', headers: { 'x-user-id': 'n2' }, payload: { reservationId: 'r' } }))
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_MISSING')
  })

  it.each([[{}], [{ reservationId: '' }], [{ reservationId: 'r', amount: 1 }], [{ reservationId: 'x'.repeat(65) }]])('when the body is %j, then 400 problem', async (payload) => {
    const res = await app.inject(fromGateway({ method: 'POST', url: '/api/payments', headers: { 'x-user-id': 'n2', 'idempotency-key': 'k' }, payload }))
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('COMMON_VALIDATION')
  })
})

describe('GET /api/payments/{id}', () => {
  it('when the payment does not exist, then 404 PAYMENT_NOT_FOUND', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/payments/00000000-0000-8000-8000-000000000000', headers: { 'x-user-id': 'n3' } }))
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('PAYMENT_NOT_FOUND')
  })
})

describe('GET /metrics', () => {
  it('exposes the outbox backlog and the payment counters', async () => {
    const text = (await app.admin.inject({ method: 'GET', url: '/metrics' })).body
    // OpenMetrics names a counter family without its _total suffix.
    for (const name of [
      'outbox_pending_events',
      'outbox_oldest_pending_age_seconds',
      'payments',
      'payment_refunds',
      'idempotent_replays',
      'nats_consumer_redeliveries',
      'nats_messages_parked',
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'))
    }
  })
})
