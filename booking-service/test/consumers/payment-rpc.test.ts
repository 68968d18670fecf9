import { describe, expect, it } from 'vitest'
import { createMariadbSeatStore } from '../../src/adapters/mariadb-seat-store.js'
import { aClock, aConcert, hold, seatRow } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { rpc } from '../helpers/rpc.js'

const clock = aClock()
const { app, anotherInstance } = await buildTestApp(
  import.meta.url,
  { SWEEP_INTERVAL_MS: '0', HOLD_TTL_SECONDS: '300', PAYING_TTL_SECONDS: '120', CONSUMERS_ENABLED: 'false' },
  { clock },
)
const second = await anotherInstance()
const store = createMariadbSeatStore(app.pool)

async function aHold(user = 'payer', seats = 10) {
  const { scheduleId, concertId } = await aConcert(app, { seats })
  const { reservationId } = (await hold(app, user, scheduleId, 1)).json()
  return { scheduleId, concertId, reservationId }
}

/** A hold of the payer's whose payment `paymentId` has begun. */
async function aPayingHold(paymentId: string) {
  const held = await aHold()
  await rpc(app, 'BEGIN_PAYMENT', { reservationId: held.reservationId, userId: 'payer', paymentId })
  return held
}

describe('BEGIN_PAYMENT', () => {
  it('when the holder begins, then PAYING with the paying deadline; the same paymentId again gets the same answer', async () => {
    const { reservationId, scheduleId, concertId } = await aHold()
    const first = await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'p1', concertId })
    expect(first).toEqual({
      ok: true,
      reservation: {
        reservationId,
        userId: 'payer',
        concertId,
        scheduleId,
        seatNumber: 1,
        price: 165_000,
        status: 'PAYING',
        expiresAt: new Date(clock.now().getTime() + 120_000).toISOString(),
      },
    })
    expect(await rpc(second, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'p1' })).toEqual(first)
    expect((await seatRow(app, scheduleId, 1)).status).toBe('PAYING')
  })

  it('when another user, concert or payment asks, then NOT_FOUND, QUEUE_TOKEN_FORBIDDEN or NOT_HELD', async () => {
    const { reservationId } = await aHold()
    expect(await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'thief', paymentId: 'p2' })).toMatchObject({ ok: false, code: 'BOOKING_RESERVATION_NOT_FOUND' })
    expect(await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'p2', concertId: 'other' })).toMatchObject({ ok: false, code: 'QUEUE_TOKEN_FORBIDDEN' })
    expect((await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'p2' })).ok).toBe(true)
    expect(await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'p3' })).toMatchObject({ ok: false, code: 'BOOKING_RESERVATION_NOT_HELD' })
  })

  it('when the hold has expired, then BOOKING_HOLD_EXPIRED', async () => {
    const { reservationId } = await aHold()
    clock.advance(300_001)
    expect(await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'late' })).toMatchObject({ ok: false, code: 'BOOKING_HOLD_EXPIRED' })
  })

  it('when the request is not a payment request, then COMMON_VALIDATION', async () => {
    expect(await rpc(app, 'BEGIN_PAYMENT', '{"reservationId": 1')).toMatchObject({ ok: false, code: 'COMMON_VALIDATION' })
    expect(await rpc(app, 'CONFIRM_PAYMENT', { reservationId: 'r' })).toMatchObject({ ok: false, code: 'COMMON_VALIDATION' })
  })
})

describe('the paying deadline', () => {
  it('when a PAYING hold passes its expiresAt, then the sweeper leaves it until the paying deadline, then releases it', async () => {
    const { reservationId, scheduleId } = await aHold()
    clock.advance(299_000)
    expect((await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'slow' })).ok).toBe(true)
    clock.advance(60_000)
    await store.sweepExpired(clock.now(), 100)
    expect((await seatRow(app, scheduleId, 1)).status).toBe('PAYING')
    expect((await hold(app, 'sniper', scheduleId, 1)).statusCode).toBe(409)
    clock.advance(60_001)
    await store.sweepExpired(clock.now(), 100)
    expect((await seatRow(app, scheduleId, 1)).status).toBe('AVAILABLE')
    expect((await app.db.reservation.findUniqueOrThrow({ where: { id: reservationId } })).status).toBe('EXPIRED')
  })
})

describe('CONFIRM_PAYMENT', () => {
  it('when PAYING is confirmed, then CONFIRMED and the seat SOLD; again with the same paymentId, the same answer and one sale', async () => {
    const { reservationId, scheduleId } = await aPayingHold('pc')
    const first = await rpc(app, 'CONFIRM_PAYMENT', { reservationId, userId: 'payer', paymentId: 'pc' })
    expect(first).toMatchObject({ ok: true, reservation: { status: 'CONFIRMED' } })
    expect(await rpc(second, 'CONFIRM_PAYMENT', { reservationId, userId: 'payer', paymentId: 'pc' })).toEqual(first)
    expect(await seatRow(app, scheduleId, 1)).toMatchObject({ status: 'SOLD', reservationId })
    expect(await app.db.outboxEvent.count({ where: { subject: 'booking.reservation.confirmed', payload: { contains: reservationId } } })).toBe(1)
    expect(await rpc(app, 'CONFIRM_PAYMENT', { reservationId, userId: 'payer', paymentId: 'other' })).toMatchObject({ ok: false, code: 'PAYMENT_ALREADY_PAID' })
    expect(await rpc(app, 'CONFIRM_PAYMENT', { reservationId, userId: 'thief', paymentId: 'pc' })).toMatchObject({ ok: false, code: 'BOOKING_RESERVATION_NOT_FOUND' })
  })

  it("when a concert's last seats are confirmed at once, then exactly one confirmation says it sold out", async () => {
    const { scheduleId } = await aConcert(app, { seats: 3 })
    const ids = []
    for (let n = 1; n <= 3; n++) ids.push((await hold(app, `last${n}`, scheduleId, n)).json().reservationId)
    for (let n = 0; n < 3; n++) await rpc(app, 'BEGIN_PAYMENT', { reservationId: ids[n], userId: `last${n + 1}`, paymentId: `so${n}` })
    await Promise.all(ids.map((id, n) => rpc(n % 2 ? app : second, 'CONFIRM_PAYMENT', { reservationId: id, userId: `last${n + 1}`, paymentId: `so${n}` })))
    const events = await app.db.outboxEvent.findMany({ where: { subject: 'booking.reservation.confirmed' } })
    const mine = events.map((e) => JSON.parse(e.payload).data).filter((d) => ids.includes(d.reservationId))
    expect(mine.map((d) => d.concertSoldOut).sort()).toEqual([false, false, true])
  })
  it("when seats are still for sale, then a confirmation takes no lock on the concert's row", async () => {
    const { reservationId, concertId } = await aHold('busy', 5)
    await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'busy', paymentId: 'nolock' })
    const holder = await app.pool.getConnection()
    try {
      await holder.beginTransaction()
      await holder.query('SELECT id FROM concerts WHERE id = ? FOR UPDATE', [concertId])
      const started = performance.now()
      const answer = await Promise.race([
        rpc(app, 'CONFIRM_PAYMENT', { reservationId, userId: 'busy', paymentId: 'nolock' }),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2_000)),
      ])
      expect(answer).toMatchObject({ ok: true, reservation: { status: 'CONFIRMED' } })
      expect(performance.now() - started).toBeLessThan(2_000)
    } finally {
      await holder.rollback()
      await holder.release()
    }
  })
  it('when a dump locks the seats table, then a payment is refused at once as unavailable, not at the statement bound', async () => {
    const { reservationId } = await aHold('dumped', 5)
    // Either instance may answer the request (one queue group): the count of both.
    const refusedOnLock = async () => {
      let sum = 0
      for (const instance of [app, second]) {
        const metrics = (await instance.admin.inject({ method: 'GET', url: '/metrics' })).body
        sum += Number(/^db_lock_wait_timeouts_total\{operation="SELECT",service="booking-service"\} (\d+)/m.exec(metrics)?.[1])
      }
      return sum
    }
    const before = await refusedOnLock()
    expect(before).toBeGreaterThanOrEqual(0)
    const dump = await app.pool.getConnection()
    try {
      await dump.query('LOCK TABLES seats READ')
      const started = performance.now()
      const answer = await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'dumped', paymentId: 'during-dump' })
      expect(answer).toMatchObject({ ok: false, code: 'COMMON_DEPENDENCY_DOWN' })
      expect(performance.now() - started).toBeLessThan(250)
      // What the LocksHeld alert counts.
      expect(await refusedOnLock()).toBe(before + 1)
    } finally {
      await dump.query('UNLOCK TABLES')
      await dump.release()
    }
    expect(await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'dumped', paymentId: 'after-dump' })).toMatchObject({ ok: true })
  })
})

describe('ABORT_PAYMENT', () => {
  it('when a payment is aborted, then the hold is HELD again until its own deadline; abort again is harmless', async () => {
    const { reservationId, scheduleId } = await aPayingHold('pa')
    const res = await rpc(app, 'ABORT_PAYMENT', { reservationId, userId: 'payer', paymentId: 'pa' })
    expect(res).toMatchObject({ ok: true, reservation: { status: 'HELD' } })
    expect(await rpc(app, 'ABORT_PAYMENT', { reservationId, userId: 'payer', paymentId: 'pa' })).toMatchObject({ ok: true, reservation: { status: 'HELD' } })
    const seat = await seatRow(app, scheduleId, 1)
    expect(seat.status).toBe('HELD')
    expect(seat.holdUntil?.toISOString()).toBe((await app.db.reservation.findUniqueOrThrow({ where: { id: reservationId } })).expiresAt.toISOString())
    expect((await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'payer', paymentId: 'pb' })).ok).toBe(true)
    expect(await rpc(app, 'ABORT_PAYMENT', { reservationId, userId: 'thief', paymentId: 'pb' })).toMatchObject({ ok: false, code: 'BOOKING_RESERVATION_NOT_FOUND' })
  })
})

describe('CONCERT_STATUS', () => {
  it('answers whether the concert exists and is sold out', async () => {
    const { scheduleId, concertId } = await aConcert(app, { seats: 1 })
    expect(await rpc(app, 'CONCERT_STATUS', { concertId })).toEqual({ exists: true, soldOut: false })
    expect(await rpc(app, 'CONCERT_STATUS', { concertId: 'nope' })).toEqual({ exists: false, soldOut: false })
    const { reservationId } = (await hold(app, 'one', scheduleId, 1)).json()
    await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'one', paymentId: 'cs' })
    await rpc(app, 'CONFIRM_PAYMENT', { reservationId, userId: 'one', paymentId: 'cs' })
    expect(await rpc(second, 'CONCERT_STATUS', { concertId })).toEqual({ exists: true, soldOut: true })
  })
})
