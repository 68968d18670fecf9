import type { FastifyInstance } from 'fastify'
import { uuidv7 } from 'uuidv7'
import { fromGateway } from '@tickets/testkit'

/** A settable clock for tests where time matters. */
export function aClock(start = new Date()) {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms
    },
  }
}

/** A concert with one date (or more) and `seats` seats per date, booking open since an hour ago. */
export async function aConcert(app: FastifyInstance, opts: { seats?: number; dates?: number; opensAt?: Date; price?: number } = {}) {
  const concertId = uuidv7()
  const seats = opts.seats ?? 50
  const opensAt = opts.opensAt ?? new Date(Date.now() - 3_600_000)
  await app.db.concert.create({ data: { id: concertId, title: `Concert ${concertId.slice(-6)}`, artist: 'Test Artist', venue: 'Test Hall' } })
  const scheduleIds = Array.from({ length: opts.dates ?? 1 }, () => uuidv7())
  await app.db.schedule.createMany({
    data: scheduleIds.map((id, i) => ({ id, concertId, startsAt: new Date(Date.now() + (30 + i) * 86_400_000), bookingOpensAt: opensAt, totalSeats: seats })),
  })
  await app.db.seat.createMany({
    data: scheduleIds.flatMap((scheduleId) =>
      Array.from({ length: seats }, (_, n) => ({ scheduleId, seatNumber: n + 1, grade: n < 10 ? 'VIP' : 'R', price: opts.price ?? (n < 10 ? 165_000 : 132_000) })),
    ),
  })
  return { concertId, scheduleId: scheduleIds[0]!, scheduleIds }
}

export function hold(app: FastifyInstance, user: string | number, scheduleId: string, seatNumber: number, headers: Record<string, string> = {}) {
  return app.inject(fromGateway({ method: 'POST', url: '/api/reservations', headers: { 'x-user-id': String(user), ...headers }, payload: { scheduleId, seatNumber } }))
}

export async function seatRow(app: FastifyInstance, scheduleId: string, seatNumber: number) {
  return app.db.seat.findUniqueOrThrow({ where: { scheduleId_seatNumber: { scheduleId, seatNumber } } })
}

/** Reservations that still claim their seat. */
export async function liveReservations(app: FastifyInstance, scheduleId: string) {
  return app.db.reservation.findMany({ where: { scheduleId, status: { in: ['HELD', 'PAYING', 'CONFIRMED'] } } })
}
