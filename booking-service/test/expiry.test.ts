import { SUBJECTS } from '@tickets/contracts/events'
import { describe, expect, it } from 'vitest'
import { createMariadbSeatStore } from '../src/adapters/mariadb-seat-store.js'
import { aClock, aConcert, hold, seatRow } from './helpers/factories.js'
import { buildTestApp } from './helpers/build-test-app.js'

const clock = aClock()
const { app, anotherInstance } = await buildTestApp(import.meta.url, { SWEEP_INTERVAL_MS: '50', HOLD_TTL_SECONDS: '300' }, { clock })
const second = await anotherInstance()

function released() {
  const heard: { data: { reservationId: string; reason: string } }[] = []
  const sub = app.nats.nc.subscribe(app.nats.names.subject(SUBJECTS.RESERVATION_RELEASED), { callback: (_e, m) => heard.push(m.json()) })
  return { heard, stop: () => sub.unsubscribe() }
}

describe('expiry of unpaid holds', () => {
  it('when a hold runs past expiresAt, then the sweeper releases it with nobody asking, and someone else can hold the seat', async () => {
    const { scheduleId } = await aConcert(app)
    const events = released()
    const { reservationId } = (await hold(app, 'late', scheduleId, 5)).json()
    clock.advance(300_001)
    await expect.poll(async () => (await seatRow(app, scheduleId, 5)).status, { timeout: 5_000 }).toBe('AVAILABLE')
    expect((await app.db.reservation.findUniqueOrThrow({ where: { id: reservationId } })).status).toBe('EXPIRED')
    const res = await hold(second, 'next', scheduleId, 5)
    expect(res.statusCode).toBe(201)
    await expect.poll(() => events.heard.filter((e) => e.data.reservationId === reservationId).map((e) => e.data.reason)).toEqual(['EXPIRED'])
    events.stop()
  })

  it('when a hold has run out but the sweeper has not come by, then the next fan gets the seat and the old hold ends EXPIRED', async () => {
    const { scheduleId } = await aConcert(app)
    const store = createMariadbSeatStore(app.pool)
    const first = await store.holdSeat({
      reservationId: '0190aaaa-0000-7000-8000-00000000abcd',
      userId: 'early',
      concertId: (await app.db.schedule.findUniqueOrThrow({ where: { id: scheduleId } })).concertId,
      scheduleId,
      seatNumber: 8,
      price: 1,
      now: clock.now(),
      expiresAt: new Date(clock.now().getTime() - 1),
      limit: 4,
    })
    expect(first.ok).toBe(true)
    const res = await hold(app, 'next', scheduleId, 8)
    expect(res.statusCode).toBe(201)
    expect((await app.db.reservation.findUniqueOrThrow({ where: { id: '0190aaaa-0000-7000-8000-00000000abcd' } })).status).toBe('EXPIRED')
    expect((await seatRow(app, scheduleId, 8)).reservationId).toBe(res.json().reservationId)
  })

  it('when holds expire while sweepers and fans race, then no seat is both free and held, each hold released once', async () => {
    const store = createMariadbSeatStore(app.pool)
    const otherStore = createMariadbSeatStore(second.pool)
    for (let round = 0; round < 3; round++) {
      const { scheduleId } = await aConcert(app, { seats: 20 })
      const events = released()
      const old = []
      for (let n = 1; n <= 20; n++) old.push((await hold(app, `old${round}-${n}`, scheduleId, n)).json().reservationId)
      clock.advance(300_001)
      await Promise.all([
        ...Array.from({ length: 20 }, (_, n) => hold(n % 2 ? app : second, `new${round}-${n}`, scheduleId, n + 1)),
        ...Array.from({ length: 6 }, (_, i) => (i % 2 ? store : otherStore).sweepExpired(clock.now(), 4)),
      ])
      const seats = await app.db.seat.findMany({ where: { scheduleId } })
      const reservations = await app.db.reservation.findMany({ where: { scheduleId } })
      for (const seat of seats) {
        const live = reservations.filter((r) => r.seatNumber === seat.seatNumber && (r.status === 'HELD' || r.status === 'PAYING'))
        if (seat.status === 'AVAILABLE') expect(live).toEqual([])
        else {
          expect(live).toHaveLength(1)
          expect(seat.reservationId).toBe(live[0]!.id)
          expect(live[0]!.userId).toMatch(/^new/)
        }
      }
      expect(reservations.filter((r) => old.includes(r.id)).map((r) => r.status)).toEqual(Array(20).fill('EXPIRED'))
      await expect.poll(() => events.heard.filter((e) => old.includes(e.data.reservationId)).length).toBe(20)
      await new Promise((r) => setTimeout(r, 200))
      expect(new Set(events.heard.map((e) => e.data.reservationId)).size).toBe(events.heard.length)
      events.stop()
    }
  })
})
