import { anEnvelope, SUBJECTS, type PaymentCompleted, type ReservationConfirmed, type ReservationReleased } from '@tickets/contracts/events'
import { publishEvent } from '@tickets/shared/nats'
import { isolation } from '@tickets/testkit'
import { describe, expect, it, vi } from 'vitest'
import { lineControls } from '../../src/ops.js'
import { aConcertId, buildTestApp, join, manualClock, poll } from '../helpers/build-test-app.js'

const iso = isolation(import.meta.url)
const clock = manualClock(Date.now())
const app = await buildTestApp(iso, { ADMISSION_RATE_PER_SECOND: '10' }, { clock, consumers: true })
const controls = lineControls(app.redis)

async function activeUser(userId: string, concertId: string) {
  const waiting = (await join(app, userId, concertId)).json().token
  clock.advance(1_000)
  await app.queue.tick()
  const view = (await poll(app, userId, waiting)).json()
  expect(view.status).toBe('ACTIVE')
  return view.token as string
}

const paid = (userId: string, concertId: string): PaymentCompleted => ({ paymentId: `p-${userId}`, reservationId: `r-${userId}`, userId, concertId, amount: 99_000 })

describe('payment.payment.completed', () => {
  it('when an ACTIVE fan pays, then their slot ends and the token is revoked; the same event again changes nothing', async () => {
    const concertId = aConcertId()
    const token = await activeUser('buyer', concertId)
    const event = anEnvelope(SUBJECTS.PAYMENT_COMPLETED, paid('buyer', concertId))
    await publishEvent(app.nats, SUBJECTS.PAYMENT_COMPLETED, event)
    await vi.waitFor(async () => expect((await poll(app, 'buyer', token)).json().status).toBe('EXPIRED'), { timeout: 5_000 })
    expect(await app.redis.get(`{q:${concertId}}:rev:buyer`)).not.toBeNull()

    const again = await activeUser('buyer', concertId)
    await app.nats.js.publish(app.nats.names.subject(SUBJECTS.PAYMENT_COMPLETED), JSON.stringify(event), { msgID: `${event.id}-redelivered` })
    const marker = anEnvelope(SUBJECTS.PAYMENT_COMPLETED, paid('someone-else', concertId))
    await publishEvent(app.nats, SUBJECTS.PAYMENT_COMPLETED, marker)
    await vi.waitFor(async () => expect(await app.redis.exists(`{q:${concertId}}:evt:${marker.id}`)).toBe(1), { timeout: 5_000 })
    expect((await poll(app, 'buyer', again)).json().status).toBe('ACTIVE')
    expect((await controls.status(concertId)).active).toBe(1)
  })

  it('when a message is not a valid event, then it is parked and the next one is still applied', async () => {
    const concertId = aConcertId()
    const token = await activeUser('after-poison', concertId)
    await app.nats.js.publish(app.nats.names.subject(SUBJECTS.PAYMENT_COMPLETED), JSON.stringify({ id: 'x', data: { userId: 1 } }), { msgID: `poison-${concertId}` })
    await publishEvent(app.nats, SUBJECTS.PAYMENT_COMPLETED, anEnvelope(SUBJECTS.PAYMENT_COMPLETED, paid('after-poison', concertId)))
    await vi.waitFor(async () => expect((await poll(app, 'after-poison', token)).json().status).toBe('EXPIRED'), { timeout: 5_000 })
  })
})

describe('booking.reservation.confirmed and released', () => {
  it('when the last seat is confirmed, then the line closes at once; when a seat is released, it reopens', async () => {
    const concertId = aConcertId()
    const { token } = (await join(app, 'w1', concertId)).json()
    const seat = { reservationId: 'r1', userId: 'x', concertId, scheduleId: 's1', seatNumber: 1 }
    const confirmed: ReservationConfirmed = { ...seat, paymentId: 'p1', price: 1, concertSoldOut: true }
    await publishEvent(app.nats, SUBJECTS.RESERVATION_CONFIRMED, anEnvelope(SUBJECTS.RESERVATION_CONFIRMED, confirmed))
    await vi.waitFor(async () => expect((await poll(app, 'w1', token)).json().status).toBe('SOLD_OUT'), { timeout: 5_000 })
    expect((await join(app, 'w2', concertId)).json().code).toBe('QUEUE_SOLD_OUT')

    const released: ReservationReleased = { ...seat, reason: 'REFUNDED' }
    await publishEvent(app.nats, SUBJECTS.RESERVATION_RELEASED, anEnvelope(SUBJECTS.RESERVATION_RELEASED, released, { occurredAt: new Date(Date.now() + 1_000) }))
    await vi.waitFor(async () => expect((await poll(app, 'w1', token)).json().status).toBe('WAITING'), { timeout: 5_000 })
    expect((await join(app, 'w2', concertId)).statusCode).toBe(201)
  })

  it('when a stale "sold out" arrives after the reopening, then the line stays open', async () => {
    const concertId = aConcertId()
    await app.queue.soldOutChanged({ concertId, soldOut: false, occurredAt: '2026-01-10T12:00:05Z' })
    await app.queue.soldOutChanged({ concertId, soldOut: true, occurredAt: '2026-01-10T12:00:01Z' })
    expect((await join(app, 'late', concertId)).statusCode).toBe(201)
  })
})
