import { describe, expect, it } from 'vitest'
import { aConcert, hold } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'

// Every fan of the rush reaches the database (the race is under test, not overload): each waits its
// turn for a connection instead of being refused once twice the pool wait (MYSQL_MAX_WAITING).
const { app, anotherInstance } = await buildTestApp(import.meta.url, { SWEEP_INTERVAL_MS: '0', MYSQL_ACQUIRE_TIMEOUT_MS: '20000', MYSQL_MAX_WAITING: '5000' })
const second = await anotherInstance()

describe('holding one seat under a rush', () => {
  it('when 200 fans hold the same seat at once through two instances, then one 201, 199 409 and one live hold', async () => {
    const { scheduleId } = await aConcert(app)
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => hold(i % 2 === 0 ? app : second, `fan${i}`, scheduleId, 17)))
    const statuses = results.map((r) => r.statusCode)
    expect(statuses.filter((s) => s === 201)).toHaveLength(1)
    expect(statuses.filter((s) => s === 409)).toHaveLength(199)
    expect(statuses.filter((s) => s >= 500)).toHaveLength(0)
    expect(new Set(results.filter((r) => r.statusCode === 409).map((r) => r.json().code))).toEqual(new Set(['BOOKING_SEAT_TAKEN']))
    const live = await app.db.reservation.findMany({ where: { scheduleId, seatNumber: 17, status: { in: ['HELD', 'PAYING', 'CONFIRMED'] } } })
    expect(live).toHaveLength(1)
    const winner = results.find((r) => r.statusCode === 201)!.json()
    expect(live[0]!.id).toBe(winner.reservationId)
  })

  it('when 1,000 fans hold 50 seats at once, then no seat is held twice, each 201 is a live hold, each refusal 409 or 503', async () => {
    const { scheduleId } = await aConcert(app, { seats: 50 })
    const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => hold(i % 2 === 0 ? app : second, `crowd${i}`, scheduleId, (i % 50) + 1)))
    // On a starved machine a fan may meet the statement bound (503, asked to retry); nothing else.
    for (const r of results.filter((r) => r.statusCode !== 201)) {
      if (r.statusCode === 503) expect(r.headers['retry-after'], r.body).toBeDefined()
      else expect(`${r.statusCode} ${r.json().code}`).toBe('409 BOOKING_SEAT_TAKEN')
    }
    const won = results.filter((r) => r.statusCode === 201).map((r) => r.json().reservationId as string)
    expect(won.length).toBeGreaterThan(0)
    const reservations = await app.db.reservation.findMany({ where: { scheduleId, status: 'HELD' } })
    expect(new Set(reservations.map((r) => r.id))).toEqual(new Set(won))
    expect(new Set(reservations.map((r) => r.seatNumber)).size).toBe(reservations.length)
    const held = (await app.db.seat.findMany({ where: { scheduleId } })).filter((s) => s.status === 'HELD')
    expect(new Set(held.map((s) => s.reservationId))).toEqual(new Set(won))
  })
})
