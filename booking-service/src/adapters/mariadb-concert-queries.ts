import type { Pool } from 'mariadb'
import type { SeatStore } from '../domain/ports.js'

/** What the waiting room asks booking about a concert: whether it exists or sold out, and its inventory. */
export function mariadbConcertQueries(pool: Pool): Pick<SeatStore, 'concertStatus' | 'concertInventory'> {
  return {
    async concertStatus(concertId) {
      const [row] = await pool.query<{ concerts: bigint | number; open: bigint | number | null; total: bigint | number }[]>(
        `SELECT (SELECT COUNT(*) FROM concerts WHERE id = ?) AS concerts,
              SUM(t.status <> 'SOLD') AS open, COUNT(t.seat_number) AS total
         FROM schedules s JOIN seats t ON t.schedule_id = s.id WHERE s.concert_id = ?`,
        [concertId, concertId],
      )
      const exists = Number(row?.concerts ?? 0) > 0
      return { exists, soldOut: exists && Number(row?.total ?? 0) > 0 && Number(row?.open ?? 1) === 0 }
    },

    async concertInventory(concertId, now) {
      const [[concert], [dates], [counts], holds] = await Promise.all([
        pool.query<{ n: bigint | number }[]>('SELECT COUNT(*) AS n FROM concerts WHERE id = ?', [concertId]),
        pool.query<{ opens_at: Date | null }[]>('SELECT MIN(booking_opens_at) AS opens_at FROM schedules WHERE concert_id = ?', [concertId]),
        pool.query<{ total: bigint | number; sold: bigint | number | null }[]>(
          `SELECT COUNT(*) AS total, SUM(t.status = 'SOLD') AS sold FROM schedules s JOIN seats t ON t.schedule_id = s.id WHERE s.concert_id = ?`,
          [concertId],
        ),
        pool.query<{ reservation_id: string; user_id: string; hold_until: Date }[]>(
          `SELECT t.reservation_id, r.user_id, t.hold_until FROM schedules s JOIN seats t ON t.schedule_id = s.id JOIN reservations r ON r.id = t.reservation_id
          WHERE s.concert_id = ? AND t.status IN ('HELD', 'PAYING') AND t.hold_until > ?`,
          [concertId, now],
        ),
      ])
      if (Number(concert?.n ?? 0) === 0) return null
      return {
        total: Number(counts?.total ?? 0),
        sold: Number(counts?.sold ?? 0),
        opensAt: dates?.opens_at ?? null,
        holds: holds.map((h) => ({ reservationId: h.reservation_id, userId: h.user_id, until: h.hold_until })),
      }
    },
  }
}
