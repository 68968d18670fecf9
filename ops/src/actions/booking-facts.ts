import { createPool } from '@tickets/shared/mysql'

/**
 * Everything reconciliation reads from booking's database, in one place: the table and column
 * names here follow booking-service/prisma/schema.prisma (reservations, seats, outbox_events).
 */
export interface ReservationRecord {
  reservationId: string
  userId: string
  status: string
  price: number
  paymentId: string | null
}

export async function readBookingFacts(url: string, opts: { holdGraceSeconds: number; outboxMaxAgeSeconds: number }) {
  const pool = createPool({ url, connectionLimit: 1, acquireTimeoutMs: 5_000 })
  const violations: string[] = []
  try {
    const rows = await pool.query<{ id: string; user_id: string; status: string; price: number; payment_id: string | null }[]>(
      'SELECT id, user_id, status, price, payment_id FROM reservations',
    )
    const reservations: ReservationRecord[] = rows.map((r) => ({ reservationId: r.id, userId: r.user_id, status: r.status, price: Number(r.price), paymentId: r.payment_id }))
    const overdue = await pool.query<{ id: string; status: string; deadline: Date }[]>(
      `SELECT id, status, IF(status = 'PAYING', paying_until, expires_at) AS deadline FROM reservations
        WHERE (status = 'HELD' AND expires_at < NOW(3) - INTERVAL ? SECOND) OR (status = 'PAYING' AND paying_until < NOW(3) - INTERVAL ? SECOND)`,
      [opts.holdGraceSeconds, opts.holdGraceSeconds],
    )
    for (const o of overdue) violations.push(`reservation ${o.id} still ${o.status} past its deadline ${o.deadline.toISOString()}`)
    const seats = await pool.query<{ schedule_id: string; seat_number: number; status: string; hold_until: Date }[]>(
      "SELECT schedule_id, seat_number, status, hold_until FROM seats WHERE status IN ('HELD', 'PAYING') AND hold_until < NOW(3) - INTERVAL ? SECOND",
      [opts.holdGraceSeconds],
    )
    for (const s of seats) violations.push(`seat ${s.schedule_id}#${s.seat_number} still ${s.status} past its deadline ${s.hold_until.toISOString()}`)
    const stale = await pool.query<{ id: string; subject: string; age: bigint }[]>(
      'SELECT id, subject, TIMESTAMPDIFF(SECOND, created_at, NOW(3)) AS age FROM outbox_events WHERE published_at IS NULL AND created_at < NOW(3) - INTERVAL ? SECOND',
      [opts.outboxMaxAgeSeconds],
    )
    for (const s of stale) violations.push(`booking outbox event ${s.id} (${s.subject}) unpublished for ${s.age} s`)
    return { violations, reservations }
  } finally {
    await pool.end()
  }
}

/** A concert's confirmed sales, per buyer: seats and points paid. */
export async function readConcertSales(url: string, concertId: string): Promise<{ userId: string; seats: number; amount: number }[]> {
  const pool = createPool({ url, connectionLimit: 1, acquireTimeoutMs: 5_000 })
  try {
    const rows = await pool.query<{ user_id: string; seats: bigint; amount: string | number }[]>(
      "SELECT user_id, COUNT(*) AS seats, SUM(price) AS amount FROM reservations WHERE concert_id = ? AND status = 'CONFIRMED' GROUP BY user_id",
      [concertId],
    )
    return rows.map((r) => ({ userId: r.user_id, seats: Number(r.seats), amount: Number(r.amount) }))
  } finally {
    await pool.end()
  }
}
