import { SUBJECTS } from '@tickets/contracts/events'
import { describe, expect, it } from 'vitest'
import { balanceOf, charge, ledgerEntries, ledgerSum, metricValue, pay, waitFor } from '../helpers/payments.js'
import { aConcert, aHold, buildBookingAndPayment, reservationStatus, seatStatus } from '../helpers/with-booking.js'
import { fromGateway } from '@tickets/testkit'

let offsetMs = 0
const clock = { now: () => new Date(Date.now() + offsetMs) }
const { app, booking } = await buildBookingAndPayment(import.meta.url, { clock, booking: { HOLD_LIMIT_PER_USER: '50' } })
const { concertId, scheduleId } = await aConcert(booking, { seats: 20, price: 100_000 })
let seat = 0
const nextSeat = () => ++seat

async function lastPaymentEvent(subject: string, reservationId: string) {
  const stream = app.nats.names.stream('PAYMENT_EVENTS')
  return waitFor(`${subject} for ${reservationId}`, async () => {
    try {
      const msg = await app.nats.jsm.streams.getMessage(stream, { last_by_subj: app.nats.names.subject(subject) })
      const event = msg.json<{ data: { reservationId: string } & Record<string, unknown> }>()
      return event.data.reservationId === reservationId ? event : undefined
    } catch {
      return undefined
    }
  })
}

describe('POST /api/payments with the real booking service', () => {
  it('when a held reservation is paid, then 201 COMPLETED, reservation CONFIRMED, seat SOLD, one charge, one event', async () => {
    await charge(app, 'u1', 300_000, 'topup')
    const { reservationId } = await aHold(booking, 'u1', scheduleId, nextSeat())
    const res = await pay(app, 'u1', reservationId, 'pay-1', { 'x-queue-concert-id': concertId })
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ reservationId, amount: 100_000, status: 'COMPLETED', confirmation: 'CONFIRMED' })
    expect(await reservationStatus(booking, reservationId)).toBe('CONFIRMED')
    expect(await seatStatus(booking, scheduleId, seat)).toBe('SOLD')
    expect(await balanceOf(app, 'u1')).toBe(200_000)
    expect(await ledgerSum(app, 'u1')).toBe(200_000)
    const event = await lastPaymentEvent(SUBJECTS.PAYMENT_COMPLETED, reservationId)
    expect(event.data).toEqual({ paymentId: body.paymentId, reservationId, userId: 'u1', concertId, amount: 100_000 })

    const own = await app.inject(fromGateway({ method: 'GET', url: `/api/payments/${body.paymentId}`, headers: { 'x-user-id': 'u1' } }))
    expect(own.statusCode).toBe(200)
    expect(own.json()).toMatchObject({ paymentId: body.paymentId, status: 'COMPLETED', confirmation: 'CONFIRMED' })
    const other = await app.inject(fromGateway({ method: 'GET', url: `/api/payments/${body.paymentId}`, headers: { 'x-user-id': 'u2' } }))
    expect(other.statusCode).toBe(404)
    expect(await metricValue(app, 'payments_total', { outcome: 'completed' })).toBeGreaterThanOrEqual(1)
  })

  it('when the same payment is sent again with its key, then the first 201 is replayed and nothing more is charged', async () => {
    await charge(app, 'u3', 100_000, 'topup')
    const { reservationId } = await aHold(booking, 'u3', scheduleId, nextSeat())
    const first = await pay(app, 'u3', reservationId, 'k')
    const again = await pay(app, 'u3', reservationId, 'k')
    expect(again.statusCode).toBe(201)
    expect(again.body).toBe(first.body)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(await balanceOf(app, 'u3')).toBe(0)
  })

  it('when the same key comes with another reservation, then 422 and nothing more is charged', async () => {
    await charge(app, 'u4', 200_000, 'topup')
    const a = await aHold(booking, 'u4', scheduleId, nextSeat())
    const b = await aHold(booking, 'u4', scheduleId, nextSeat())
    expect((await pay(app, 'u4', a.reservationId, 'same')).statusCode).toBe(201)
    const res = await pay(app, 'u4', b.reservationId, 'same')
    expect(res.statusCode).toBe(422)
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
    expect(await balanceOf(app, 'u4')).toBe(100_000)
    expect(await reservationStatus(booking, b.reservationId)).toBe('HELD')
  })

  it('when one payment is sent 20 times at once with one key, then one charge; the rest replay it or get 409', async () => {
    await charge(app, 'u5', 1_000_000, 'topup')
    const { reservationId } = await aHold(booking, 'u5', scheduleId, nextSeat())
    const all = await Promise.all(Array.from({ length: 20 }, () => pay(app, 'u5', reservationId, 'one-key')))
    const created = all.filter((r) => r.statusCode === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    expect(new Set(created.map((r) => r.body)).size).toBe(1)
    for (const r of all.filter((r) => r.statusCode !== 201)) {
      expect(r.statusCode).toBe(409)
      expect(r.json().code).toBe('IDEMPOTENCY_IN_PROGRESS')
    }
    expect(await ledgerEntries(app, 'u5', 'PAYMENT')).toBe(1)
    expect(await balanceOf(app, 'u5')).toBe(900_000)
    expect(await reservationStatus(booking, reservationId)).toBe('CONFIRMED')
  })

  it('when the same payment is sent 20 times at once with 20 keys, then one 201 and 19 409s, one charge', async () => {
    await charge(app, 'u6', 1_000_000, 'topup')
    const { reservationId } = await aHold(booking, 'u6', scheduleId, nextSeat())
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => pay(app, 'u6', reservationId, `key-${i}`)))
    expect(all.filter((r) => r.statusCode === 201)).toHaveLength(1)
    const refused = all.filter((r) => r.statusCode !== 201)
    expect(refused).toHaveLength(19)
    for (const r of refused) {
      expect(r.statusCode).toBe(409)
      expect(['BOOKING_RESERVATION_NOT_HELD', 'PAYMENT_ALREADY_PAID']).toContain(r.json().code)
    }
    expect(await ledgerEntries(app, 'u6', 'PAYMENT')).toBe(1)
    expect(await balanceOf(app, 'u6')).toBe(900_000)
    expect(await reservationStatus(booking, reservationId)).toBe('CONFIRMED')
  })

  it('when a paid reservation is paid again with a new key, then 409 PAYMENT_ALREADY_PAID and nothing more is charged', async () => {
    await charge(app, 'u10', 300_000, 'topup')
    const { reservationId } = await aHold(booking, 'u10', scheduleId, nextSeat())
    const first = await pay(app, 'u10', reservationId, 'first')
    expect(first.statusCode).toBe(201)
    const again = await pay(app, 'u10', reservationId, 'second')
    expect(again.statusCode).toBe(409)
    expect(again.json()).toMatchObject({ code: 'PAYMENT_ALREADY_PAID', paymentId: first.json().paymentId })
    expect(await balanceOf(app, 'u10')).toBe(200_000)
  })

  it('when the request that paid died before saving its answer, then the same request answers it again, charging once', async () => {
    await charge(app, 'u11', 300_000, 'topup')
    const { reservationId } = await aHold(booking, 'u11', scheduleId, nextSeat())
    const first = await pay(app, 'u11', reservationId, 'died')
    expect(first.statusCode).toBe(201)
    await app.pool.query(
      "UPDATE idempotency_keys SET state = 'IN_PROGRESS', response_status = NULL, response_body = NULL, locked_until = NOW(3) - INTERVAL 1 SECOND WHERE user_id = 'u11' AND idem_key = 'died'",
    )
    const rerun = await pay(app, 'u11', reservationId, 'died')
    expect(rerun.statusCode).toBe(201)
    expect(rerun.json()).toMatchObject({ paymentId: first.json().paymentId, status: 'COMPLETED', confirmation: 'CONFIRMED' })
    expect(rerun.headers['idempotent-replayed']).toBeUndefined()
    expect(await ledgerEntries(app, 'u11', 'PAYMENT')).toBe(1)
    expect(await balanceOf(app, 'u11')).toBe(200_000)
  })

  it("when the reservation is another user's, then 404 and nothing is charged; the owner's hold stays", async () => {
    await charge(app, 'thief', 500_000, 'topup')
    const { reservationId } = await aHold(booking, 'owner', scheduleId, nextSeat())
    const res = await pay(app, 'thief', reservationId, 'steal')
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('BOOKING_RESERVATION_NOT_FOUND')
    expect(await balanceOf(app, 'thief')).toBe(500_000)
    expect(await reservationStatus(booking, reservationId)).toBe('HELD')
  })

  it('when the user has too few points, then 409 PAYMENT_INSUFFICIENT_POINTS, nothing charged and the hold kept', async () => {
    await charge(app, 'u7', 99_999, 'topup')
    const { reservationId } = await aHold(booking, 'u7', scheduleId, nextSeat())
    const res = await pay(app, 'u7', reservationId, 'poor')
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('PAYMENT_INSUFFICIENT_POINTS')
    expect(await balanceOf(app, 'u7')).toBe(99_999)
    expect(await ledgerEntries(app, 'u7', 'PAYMENT')).toBe(0)
    expect(await reservationStatus(booking, reservationId)).toBe('HELD')
    await charge(app, 'u7', 1, 'one-more')
    const retry = await pay(app, 'u7', reservationId, 'rich-now')
    expect(retry.statusCode).toBe(201)
    expect(await balanceOf(app, 'u7')).toBe(0)
  })

  it('when the queue token is for another concert, then 403 QUEUE_TOKEN_FORBIDDEN and nothing is charged', async () => {
    await charge(app, 'u8', 100_000, 'topup')
    const { reservationId } = await aHold(booking, 'u8', scheduleId, nextSeat())
    const res = await pay(app, 'u8', reservationId, 'k', { 'x-queue-concert-id': 'another-concert' })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('QUEUE_TOKEN_FORBIDDEN')
    expect(await balanceOf(app, 'u8')).toBe(100_000)
  })

  it('when the hold has expired, then 409 BOOKING_HOLD_EXPIRED and nothing is charged', async () => {
    await charge(app, 'u9', 100_000, 'topup')
    const { reservationId } = await aHold(booking, 'u9', scheduleId, nextSeat())
    offsetMs = 3_600_000
    try {
      const res = await pay(app, 'u9', reservationId, 'late')
      expect(res.statusCode).toBe(409)
      expect(res.json().code).toBe('BOOKING_HOLD_EXPIRED')
    } finally {
      offsetMs = 0
    }
    expect(await balanceOf(app, 'u9')).toBe(100_000)
    expect(await ledgerEntries(app, 'u9', 'PAYMENT')).toBe(0)
  })
})
