import { anEnvelope, SUBJECTS, type PaymentCompleted, type PaymentRefunded } from '@tickets/contracts/events'
import { publishEvent } from '@tickets/shared/nats'
import { describe, expect, it } from 'vitest'
import { createMariadbSeatStore } from '../../src/adapters/mariadb-seat-store.js'
import { aClock, aConcert, hold, seatRow } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { rpc } from '../helpers/rpc.js'

const clock = aClock()
// No settling time: these tests publish the events themselves, with no CONFIRM racing them.
const { app } = await buildTestApp(import.meta.url, { SWEEP_INTERVAL_MS: '0', HOLD_TTL_SECONDS: '300', PAYING_TTL_SECONDS: '120', PAYMENT_EVENT_SETTLE_MS: '0' }, { clock })
const bus = app.nats

function listen(subject: string) {
  const heard: { id: string; data: Record<string, unknown> }[] = []
  const sub = bus.nc.subscribe(bus.names.subject(subject), { callback: (_e, m) => heard.push(m.json()) })
  return { heard, stop: () => sub.unsubscribe() }
}

async function aPaying(user: string, paymentId: string) {
  const { scheduleId, concertId } = await aConcert(app, { seats: 5 })
  const { reservationId } = (await hold(app, user, scheduleId, 1)).json()
  await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: user, paymentId })
  return { scheduleId, concertId, reservationId }
}

const completed = (data: PaymentCompleted) => anEnvelope(SUBJECTS.PAYMENT_COMPLETED, data)

describe('payment.payment.completed', () => {
  it('when CONFIRM never arrived, then the event confirms the reservation and the seat is SOLD', async () => {
    const { reservationId, scheduleId, concertId } = await aPaying('u1', 'pay-1')
    await publishEvent(bus, SUBJECTS.PAYMENT_COMPLETED, completed({ paymentId: 'pay-1', reservationId, userId: 'u1', concertId, amount: 165_000 }))
    await expect.poll(async () => (await seatRow(app, scheduleId, 1)).status, { timeout: 5_000 }).toBe('SOLD')
    expect((await app.db.reservation.findUniqueOrThrow({ where: { id: reservationId } })).status).toBe('CONFIRMED')
  })

  it('when CONFIRM got there first, then the event takes no lock and a seat locked elsewhere does not hold it up', async () => {
    const first = await aPaying('u9', 'pay-9')
    await rpc(app, 'CONFIRM_PAYMENT', { reservationId: first.reservationId, userId: 'u9', paymentId: 'pay-9' })
    const second = await aPaying('u10', 'pay-10')
    const holder = await app.pool.getConnection()
    try {
      await holder.beginTransaction()
      await holder.query('SELECT status FROM seats WHERE schedule_id = ? AND seat_number = 1 FOR UPDATE', [first.scheduleId])
      const started = performance.now()
      await publishEvent(
        bus,
        SUBJECTS.PAYMENT_COMPLETED,
        completed({ paymentId: 'pay-9', reservationId: first.reservationId, userId: 'u9', concertId: first.concertId, amount: 165_000 }),
      )
      await publishEvent(
        bus,
        SUBJECTS.PAYMENT_COMPLETED,
        completed({ paymentId: 'pay-10', reservationId: second.reservationId, userId: 'u10', concertId: second.concertId, amount: 165_000 }),
      )
      await expect.poll(async () => (await seatRow(app, second.scheduleId, 1)).status, { timeout: 5_000 }).toBe('SOLD')
      // Waiting for the first seat's lock would have taken the lock wait timeout (2 s) first.
      expect(performance.now() - started).toBeLessThan(1_500)
    } finally {
      await holder.rollback()
      await holder.release()
    }
  })

  it('when the same event is delivered twice, then it is applied once', async () => {
    const { reservationId, concertId } = await aPaying('u2', 'pay-2')
    const event = completed({ paymentId: 'pay-2', reservationId, userId: 'u2', concertId, amount: 165_000 })
    await bus.js.publish(bus.names.subject(SUBJECTS.PAYMENT_COMPLETED), JSON.stringify(event), { msgID: `${event.id}-a` })
    await bus.js.publish(bus.names.subject(SUBJECTS.PAYMENT_COMPLETED), JSON.stringify(event), { msgID: `${event.id}-b` })
    await expect.poll(() => app.db.processedEvent.count({ where: { eventId: event.id } }), { timeout: 5_000 }).toBe(1)
    await new Promise((r) => setTimeout(r, 300))
    expect(await app.db.outboxEvent.count({ where: { subject: SUBJECTS.RESERVATION_CONFIRMED, payload: { contains: reservationId } } })).toBe(1)
  })

  it('when the seat was lost before the payment completed, then booking.reservation.confirmation_failed goes out once', async () => {
    const failures = listen(SUBJECTS.RESERVATION_CONFIRMATION_FAILED)
    const { reservationId, scheduleId, concertId } = await aPaying('u3', 'pay-3')
    clock.advance(121_000)
    expect((await hold(app, 'someone-else', scheduleId, 1)).statusCode).toBe(201)
    await publishEvent(bus, SUBJECTS.PAYMENT_COMPLETED, completed({ paymentId: 'pay-3', reservationId, userId: 'u3', concertId, amount: 165_000 }))
    await expect.poll(() => failures.heard.filter((e) => e.data.reservationId === reservationId).length, { timeout: 5_000 }).toBe(1)
    expect(failures.heard.find((e) => e.data.reservationId === reservationId)?.data).toMatchObject({ paymentId: 'pay-3', userId: 'u3', reason: 'HOLD_EXPIRED' })
    expect((await seatRow(app, scheduleId, 1)).status).toBe('HELD')
    failures.stop()
  })

  it('when a paid hold was swept after its paying deadline but nobody took the seat, then the event still confirms it', async () => {
    const { reservationId, scheduleId, concertId } = await aPaying('u4', 'pay-4')
    clock.advance(121_000)
    await createMariadbSeatStore(app.pool).sweepExpired(clock.now(), 100)
    expect((await seatRow(app, scheduleId, 1)).status).toBe('AVAILABLE')
    await publishEvent(bus, SUBJECTS.PAYMENT_COMPLETED, completed({ paymentId: 'pay-4', reservationId, userId: 'u4', concertId, amount: 165_000 }))
    await expect.poll(async () => (await seatRow(app, scheduleId, 1)).status, { timeout: 5_000 }).toBe('SOLD')
  })

  it('when a message is not JSON or not a completed payment, then it is parked and the next one is still handled', async () => {
    const dead = bus.names.stream('DEAD_LETTERS')
    await bus.js.publish(bus.names.subject(SUBJECTS.PAYMENT_COMPLETED), 'not json at all', { msgID: 'poison-1' })
    await bus.js.publish(bus.names.subject(SUBJECTS.PAYMENT_COMPLETED), JSON.stringify(anEnvelope(SUBJECTS.PAYMENT_COMPLETED, { paymentId: 7 })), { msgID: 'poison-2' })
    await expect.poll(async () => (await bus.jsm.streams.info(dead)).state.messages, { timeout: 5_000 }).toBeGreaterThanOrEqual(2)
    const { reservationId, scheduleId, concertId } = await aPaying('u5', 'pay-5')
    await publishEvent(bus, SUBJECTS.PAYMENT_COMPLETED, completed({ paymentId: 'pay-5', reservationId, userId: 'u5', concertId, amount: 165_000 }))
    await expect.poll(async () => (await seatRow(app, scheduleId, 1)).status, { timeout: 5_000 }).toBe('SOLD')
  })
})

describe('payment.payment.refunded', () => {
  it('when a confirmed payment is refunded, then the seat goes back with a released REFUNDED event, once', async () => {
    const releases = listen(SUBJECTS.RESERVATION_RELEASED)
    const { reservationId, scheduleId } = await aPaying('u6', 'pay-6')
    await rpc(app, 'CONFIRM_PAYMENT', { reservationId, userId: 'u6', paymentId: 'pay-6' })
    const refund = anEnvelope<PaymentRefunded>(SUBJECTS.PAYMENT_REFUNDED, { paymentId: 'pay-6', reservationId, userId: 'u6', amount: 165_000, reason: 'CONFIRMATION_FAILED' })
    await publishEvent(bus, SUBJECTS.PAYMENT_REFUNDED, refund)
    await bus.js.publish(bus.names.subject(SUBJECTS.PAYMENT_REFUNDED), JSON.stringify(refund), { msgID: `${refund.id}-again` })
    await expect.poll(async () => (await seatRow(app, scheduleId, 1)).status, { timeout: 5_000 }).toBe('AVAILABLE')
    expect((await app.db.reservation.findUniqueOrThrow({ where: { id: reservationId } })).status).toBe('REFUNDED')
    await expect.poll(() => releases.heard.filter((e) => e.data.reservationId === reservationId).map((e) => e.data.reason)).toEqual(['REFUNDED'])
    await new Promise((r) => setTimeout(r, 300))
    expect(releases.heard.filter((e) => e.data.reservationId === reservationId)).toHaveLength(1)
    releases.stop()
  })

  it('when the refunded payment is not the one that holds the seat, then nothing is released', async () => {
    const { reservationId, scheduleId } = await aPaying('u7', 'pay-7')
    await publishEvent(
      bus,
      SUBJECTS.PAYMENT_REFUNDED,
      anEnvelope<PaymentRefunded>(SUBJECTS.PAYMENT_REFUNDED, { paymentId: 'pay-other', reservationId, userId: 'u7', amount: 1, reason: 'x' }),
    )
    await expect.poll(() => app.db.processedEvent.count({ where: { consumer: 'booking-payment-refunded' } }), { timeout: 5_000 }).toBeGreaterThanOrEqual(2)
    expect((await seatRow(app, scheduleId, 1)).status).toBe('PAYING')
  })
})
