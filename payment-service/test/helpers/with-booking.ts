import { randomUUID } from 'node:crypto'
import { buildApp as buildBookingApp } from '@tickets/booking-service/app'
import { ConfigSchema as BookingConfigSchema } from '@tickets/booking-service/config'
import { migrate as migrateBooking } from '@tickets/booking-service/ops'
import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl, TEST_INTERNAL_SECRET, fromGateway } from '@tickets/testkit'
import type { FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'
import { buildTestApp } from './build-test-app.js'

/**
 * The real booking service and the payment service side by side: one NATS namespace and Redis
 * prefix, each its own database. Booking answers payment's requests and consumes its events.
 */
export async function buildBookingAndPayment(fileUrl: string, opts: { payment?: Record<string, string>; booking?: Record<string, string>; clock?: { now(): Date } } = {}) {
  const iso = isolation(fileUrl)
  const bookingUrl = mysqlUrl(iso.database('booking'))
  await migrateBooking(bookingUrl)
  const bookingEnv = {
    INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    MYSQL_URL: bookingUrl,
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    LOG_LEVEL: 'silent',
    ...opts.booking,
  }
  const bookingApps: FastifyInstance[] = []
  async function startBooking(more: Record<string, string> = {}) {
    const app = await buildBookingApp(loadConfig(BookingConfigSchema, { ...bookingEnv, ...more }), { defaultMetrics: false, ...(opts.clock ? { clock: opts.clock } : {}) })
    bookingApps.push(app)
    return app
  }
  const booking = await startBooking()
  afterAll(async () => {
    for (const a of bookingApps.reverse()) await a.close()
    await dropDatabase(bookingUrl)
  })
  const payment = await buildTestApp(fileUrl, opts.payment, iso)
  return { booking, startBooking, bookingUrl, ...payment }
}

/** A concert with one date and `seats` seats at `price`, booking open. */
export async function aConcert(booking: FastifyInstance, opts: { seats?: number; price?: number } = {}) {
  const concertId = randomUUID()
  const scheduleId = randomUUID()
  const seats = opts.seats ?? 10
  await booking.pool.query("INSERT INTO concerts (id, title, artist, venue) VALUES (?, 'Test', 'Artist', 'Hall')", [concertId])
  await booking.pool.query(
    'INSERT INTO schedules (id, concert_id, starts_at, booking_opens_at, total_seats) VALUES (?, ?, NOW(3) + INTERVAL 30 DAY, NOW(3) - INTERVAL 1 HOUR, ?)',
    [scheduleId, concertId, seats],
  )
  for (let n = 1; n <= seats; n++) {
    await booking.pool.query("INSERT INTO seats (schedule_id, seat_number, grade, price) VALUES (?, ?, 'R', ?)", [scheduleId, n, opts.price ?? 100_000])
  }
  return { concertId, scheduleId }
}

/** Holds a seat through booking's API; returns the reservation id. */
export async function aHold(booking: FastifyInstance, userId: string, scheduleId: string, seatNumber: number): Promise<{ reservationId: string; price: number }> {
  const res = await booking.inject(fromGateway({ method: 'POST', url: '/api/reservations', headers: { 'x-user-id': userId }, payload: { scheduleId, seatNumber } }))
  if (res.statusCode !== 201) throw new Error(`hold failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

export async function reservationStatus(booking: FastifyInstance, reservationId: string): Promise<string | undefined> {
  const [row] = await booking.pool.query<{ status: string }[]>('SELECT status FROM reservations WHERE id = ?', [reservationId])
  return row?.status
}

export async function seatStatus(booking: FastifyInstance, scheduleId: string, seatNumber: number): Promise<string | undefined> {
  const [row] = await booking.pool.query<{ status: string }[]>('SELECT status FROM seats WHERE schedule_id = ? AND seat_number = ?', [scheduleId, seatNumber])
  return row?.status
}
