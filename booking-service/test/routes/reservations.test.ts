import { SUBJECTS } from '@tickets/contracts/events'
import { describe, expect, it } from 'vitest'
import { aClock, aConcert, hold, seatRow } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { rpc } from '../helpers/rpc.js'
import { fromGateway } from '@tickets/testkit'

const clock = aClock()
const { app } = await buildTestApp(import.meta.url, { SWEEP_INTERVAL_MS: '0', HOLD_TTL_SECONDS: '300' }, { clock })

describe('POST /api/reservations', () => {
  it('when the seat is free, then 201 HELD with its price and a deadline 5 minutes on, and a held event', async () => {
    const { scheduleId, concertId } = await aConcert(app)
    const heard: unknown[] = []
    const sub = app.nats.nc.subscribe(app.nats.names.subject(SUBJECTS.RESERVATION_HELD), { callback: (_e, m) => heard.push(m.json()) })
    const res = await hold(app, 1, scheduleId, 3)
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toEqual({
      reservationId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7/),
      status: 'HELD',
      price: 165_000,
      expiresAt: new Date(clock.now().getTime() + 300_000).toISOString(),
    })
    expect(await seatRow(app, scheduleId, 3)).toMatchObject({ status: 'HELD', reservationId: body.reservationId })
    await expect.poll(() => heard.length).toBe(1)
    expect(heard[0]).toMatchObject({ type: SUBJECTS.RESERVATION_HELD, data: { reservationId: body.reservationId, userId: '1', concertId, scheduleId, seatNumber: 3 } })
    sub.unsubscribe()
  })

  it('when the seat is already held, then 409 BOOKING_SEAT_TAKEN', async () => {
    const { scheduleId } = await aConcert(app)
    expect((await hold(app, 1, scheduleId, 1)).statusCode).toBe(201)
    const res = await hold(app, 2, scheduleId, 1)
    expect(res.statusCode).toBe(409)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json().code).toBe('BOOKING_SEAT_TAKEN')
  })

  it('when the body has an unknown field or a bad seat number, then 400 COMMON_VALIDATION', async () => {
    const { scheduleId } = await aConcert(app)
    for (const payload of [{ scheduleId, seatNumber: 1, price: 1 }, { scheduleId, seatNumber: 'one' }, { scheduleId }, { scheduleId, seatNumber: 0 }]) {
      const res = await app.inject(fromGateway({ method: 'POST', url: '/api/reservations', headers: { 'x-user-id': '1' }, payload }))
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('COMMON_VALIDATION')
    }
  })

  it('when no user header comes from the gateway, then 401', async () => {
    const { scheduleId } = await aConcert(app)
    const res = await app.inject(fromGateway({ method: 'POST', url: '/api/reservations', payload: { scheduleId, seatNumber: 1 } }))
    expect(res.statusCode).toBe(401)
  })

  it('when the schedule or the seat does not exist, then 404 with its own code', async () => {
    const { scheduleId } = await aConcert(app, { seats: 5 })
    expect((await hold(app, 1, 'no-such-schedule', 1)).json().code).toBe('BOOKING_SCHEDULE_NOT_FOUND')
    const res = await hold(app, 1, scheduleId, 6)
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('BOOKING_SEAT_NOT_FOUND')
  })

  it('when the queue token is for another concert, then 403 QUEUE_TOKEN_FORBIDDEN and nothing is held', async () => {
    const { scheduleId } = await aConcert(app)
    const other = await aConcert(app)
    const res = await hold(app, 1, scheduleId, 1, { 'x-queue-concert-id': other.concertId })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('QUEUE_TOKEN_FORBIDDEN')
    expect((await seatRow(app, scheduleId, 1)).status).toBe('AVAILABLE')
  })

  it('when the queue token is for this concert, then the hold goes through', async () => {
    const { scheduleId, concertId } = await aConcert(app)
    expect((await hold(app, 1, scheduleId, 1, { 'x-queue-concert-id': concertId })).statusCode).toBe(201)
  })

  it('when booking has not opened yet, then 409 BOOKING_NOT_OPEN', async () => {
    const { scheduleId } = await aConcert(app, { opensAt: new Date(clock.now().getTime() + 3_600_000) })
    expect((await hold(app, 1, scheduleId, 1)).json().code).toBe('BOOKING_NOT_OPEN')
  })

  it('when one user fires 10 holds at once on one date, then exactly 4 are held and 6 refused with BOOKING_HOLD_LIMIT', async () => {
    const { scheduleId } = await aConcert(app)
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => hold(app, 'greedy', scheduleId, i + 1)))
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(4)
    expect(results.filter((r) => r.statusCode === 409).map((r) => r.json().code)).toEqual(Array(6).fill('BOOKING_HOLD_LIMIT'))
    expect(await app.db.reservation.count({ where: { scheduleId, userId: 'greedy', status: 'HELD' } })).toBe(4)
    expect(await app.db.seat.count({ where: { scheduleId, status: 'HELD' } })).toBe(4)
  })

  it('when a user cancels one of 4 holds, then they may hold another', async () => {
    const { scheduleId } = await aConcert(app)
    const ids = []
    for (let i = 1; i <= 4; i++) ids.push((await hold(app, 'u4', scheduleId, i)).json().reservationId)
    expect((await hold(app, 'u4', scheduleId, 5)).statusCode).toBe(409)
    await app.inject(fromGateway({ method: 'DELETE', url: `/api/reservations/${ids[0]}`, headers: { 'x-user-id': 'u4' } }))
    expect((await hold(app, 'u4', scheduleId, 5)).statusCode).toBe(201)
  })
})

describe('GET /api/reservations/:id', () => {
  it("when it is mine, then its state; when it is another user's or unknown, then 404", async () => {
    const { scheduleId, concertId } = await aConcert(app)
    const { reservationId } = (await hold(app, 'owner', scheduleId, 7)).json()
    const mine = await app.inject(fromGateway({ method: 'GET', url: `/api/reservations/${reservationId}`, headers: { 'x-user-id': 'owner' } }))
    expect(mine.statusCode).toBe(200)
    expect(mine.json()).toMatchObject({ reservationId, status: 'HELD', concertId, scheduleId, seatNumber: 7, price: 165_000 })
    const theirs = await app.inject(fromGateway({ method: 'GET', url: `/api/reservations/${reservationId}`, headers: { 'x-user-id': 'intruder' } }))
    expect(theirs.statusCode).toBe(404)
    expect(theirs.json().code).toBe('BOOKING_RESERVATION_NOT_FOUND')
    const unknown = await app.inject(fromGateway({ method: 'GET', url: '/api/reservations/0190aaaa-0000-7000-8000-000000000000', headers: { 'x-user-id': 'owner' } }))
    expect(unknown.statusCode).toBe(404)
  })
})

describe('an unpaid hold past its deadline', () => {
  it('reads EXPIRED even before the sweeper comes by', async () => {
    const { scheduleId } = await aConcert(app)
    const { reservationId } = (await hold(app, 'slow', scheduleId, 6)).json()
    clock.advance(300_001)
    const res = await app.inject(fromGateway({ method: 'GET', url: `/api/reservations/${reservationId}`, headers: { 'x-user-id': 'slow' } }))
    expect(res.json().status).toBe('EXPIRED')
  })
})

describe('DELETE /api/reservations/:id', () => {
  it('when I give up my hold, then 204, the seat is free at once and a released CANCELLED event goes out', async () => {
    const { scheduleId } = await aConcert(app)
    const heard: { data: { reason: string; reservationId: string } }[] = []
    const sub = app.nats.nc.subscribe(app.nats.names.subject(SUBJECTS.RESERVATION_RELEASED), { callback: (_e, m) => heard.push(m.json()) })
    const { reservationId } = (await hold(app, 'a', scheduleId, 9)).json()
    const res = await app.inject(fromGateway({ method: 'DELETE', url: `/api/reservations/${reservationId}`, headers: { 'x-user-id': 'a' } }))
    expect(res.statusCode).toBe(204)
    expect((await hold(app, 'b', scheduleId, 9)).statusCode).toBe(201)
    const again = await app.inject(fromGateway({ method: 'GET', url: `/api/reservations/${reservationId}`, headers: { 'x-user-id': 'a' } }))
    expect(again.json().status).toBe('CANCELLED')
    await expect.poll(() => heard.filter((e) => e.data.reservationId === reservationId).map((e) => e.data.reason)).toEqual(['CANCELLED'])
    sub.unsubscribe()
  })

  it('when a payment is under way, then 409 BOOKING_RESERVATION_NOT_HELD and the seat stays with the payer', async () => {
    const { scheduleId } = await aConcert(app)
    const { reservationId } = (await hold(app, 'p', scheduleId, 4)).json()
    expect((await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: 'p', paymentId: 'pay' })).ok).toBe(true)
    const res = await app.inject(fromGateway({ method: 'DELETE', url: `/api/reservations/${reservationId}`, headers: { 'x-user-id': 'p' } }))
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('BOOKING_RESERVATION_NOT_HELD')
    expect((await seatRow(app, scheduleId, 4)).status).toBe('PAYING')
  })

  it("when it is another user's, then 404 and the hold stays", async () => {
    const { scheduleId } = await aConcert(app)
    const { reservationId } = (await hold(app, 'a', scheduleId, 2)).json()
    const res = await app.inject(fromGateway({ method: 'DELETE', url: `/api/reservations/${reservationId}`, headers: { 'x-user-id': 'b' } }))
    expect(res.statusCode).toBe(404)
    expect((await seatRow(app, scheduleId, 2)).status).toBe('HELD')
  })
})

describe('GET /api/concerts/:concertId/schedules/:scheduleId/seats', () => {
  it('when seats are free, held, sold and expired, then AVAILABLE, HELD, SOLD and AVAILABLE', async () => {
    const { concertId, scheduleId } = await aConcert(app, { seats: 4 })
    await hold(app, 'x', scheduleId, 1)
    await app.db.seat.update({ where: { scheduleId_seatNumber: { scheduleId, seatNumber: 2 } }, data: { status: 'SOLD' } })
    await app.db.seat.update({ where: { scheduleId_seatNumber: { scheduleId, seatNumber: 3 } }, data: { status: 'HELD', holdUntil: new Date(clock.now().getTime() - 1) } })
    await app.db.seat.update({ where: { scheduleId_seatNumber: { scheduleId, seatNumber: 4 } }, data: { status: 'PAYING', holdUntil: new Date(clock.now().getTime() + 60_000) } })
    const res = await app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concertId}/schedules/${scheduleId}/seats` }))
    expect(res.statusCode).toBe(200)
    expect(res.json().seats).toEqual([
      { seatNumber: 1, grade: 'VIP', price: 165_000, status: 'HELD' },
      { seatNumber: 2, grade: 'VIP', price: 165_000, status: 'SOLD' },
      { seatNumber: 3, grade: 'VIP', price: 165_000, status: 'AVAILABLE' },
      { seatNumber: 4, grade: 'VIP', price: 165_000, status: 'HELD' },
    ])
  })

  it('when the queue token is for another concert, then 403; when the date is of another concert, then 404', async () => {
    const a = await aConcert(app)
    const b = await aConcert(app)
    const forbidden = await app.inject(
      fromGateway({ method: 'GET', url: `/api/concerts/${a.concertId}/schedules/${a.scheduleId}/seats`, headers: { 'x-queue-concert-id': b.concertId } }),
    )
    expect(forbidden.statusCode).toBe(403)
    expect(forbidden.json().code).toBe('QUEUE_TOKEN_FORBIDDEN')
    const mismatched = await app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${a.concertId}/schedules/${b.scheduleId}/seats` }))
    expect(mismatched.statusCode).toBe(404)
    expect(mismatched.json().code).toBe('BOOKING_SCHEDULE_NOT_FOUND')
  })
})

describe('GET /metrics', () => {
  it('counts holds, conflicts and shows the outbox backlog and the pool', async () => {
    const text = (await app.admin.inject({ method: 'GET', url: '/metrics' })).body
    expect(text).toMatch(/booking_holds_total\{service="booking-service"\} [1-9]/)
    expect(text).toMatch(/booking_hold_conflicts_total\{reason="SEAT_TAKEN",service="booking-service"\} [1-9]/)
    expect(text).toContain('outbox_pending_events')
    expect(text).toContain('db_pool_connections')
  })
})
