import type { Pool } from 'mariadb'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { CatalogueStore, SellOut } from '../domain/ports.js'

interface SellOutRow {
  concert_id: string
  opens: Date
  open_seats: bigint | number
  total: bigint | number
  last_sold: Date | null
}

// Per concert: when booking first opened, how many seats are not sold, and when the last was sold.
const SELL_OUT_SQL = `
  SELECT s.concert_id, MIN(s.booking_opens_at) AS opens, SUM(t.status <> 'SOLD') AS open_seats, COUNT(*) AS total,
         (SELECT MAX(r.confirmed_at) FROM reservations r WHERE r.concert_id = s.concert_id AND r.status = 'CONFIRMED') AS last_sold
    FROM schedules s JOIN seats t ON t.schedule_id = s.id`

function toSellOut(r: SellOutRow): SellOut | null {
  if (Number(r.total) === 0 || Number(r.open_seats) !== 0 || !r.last_sold) return null
  return { concertId: r.concert_id, seconds: Math.max(0, (r.last_sold.getTime() - r.opens.getTime()) / 1000) }
}

export function createPrismaCatalogueStore(db: PrismaClient, pool: Pool): CatalogueStore {
  return {
    async listConcerts() {
      const rows = await db.concert.findMany({ orderBy: { createdAt: 'asc' } })
      return rows.map((c) => ({ concertId: c.id, title: c.title, artist: c.artist, venue: c.venue }))
    },
    async concertExists(concertId) {
      return (await db.concert.count({ where: { id: concertId } })) > 0
    },
    async listScheduleDates(concertId) {
      const rows = await db.schedule.findMany({ where: { concertId }, orderBy: { startsAt: 'asc' } })
      return rows.map((s) => ({
        scheduleId: s.id,
        concertId: s.concertId,
        startsAt: s.startsAt.toISOString(),
        bookingOpensAt: s.bookingOpensAt.toISOString(),
        totalSeats: s.totalSeats,
      }))
    },
    async countAvailable(concertId, now) {
      // A seat is available when free, or when its hold ran out (the sweeper may not have run yet).
      const rows = await pool.query<{ id: string; available: bigint | number }[]>(
        `SELECT s.id, (SELECT COUNT(*) FROM seats t WHERE t.schedule_id = s.id
                         AND (t.status = 'AVAILABLE' OR (t.status IN ('HELD', 'PAYING') AND t.hold_until <= ?))) AS available
           FROM schedules s WHERE s.concert_id = ?`,
        [now, concertId],
      )
      return Object.fromEntries(rows.map((r) => [r.id, Number(r.available)]))
    },
    async listSoldOut() {
      const rows = await pool.query<SellOutRow[]>(`${SELL_OUT_SQL} GROUP BY s.concert_id`)
      return rows.map(toSellOut).filter((s): s is SellOut => s !== null)
    },
    async sellOutOf(concertId) {
      const [row] = await pool.query<SellOutRow[]>(`${SELL_OUT_SQL} WHERE s.concert_id = ? GROUP BY s.concert_id`, [concertId])
      return row ? toSellOut(row) : null
    },
  }
}
