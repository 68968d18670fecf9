import type { Pool } from 'mariadb'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { CatalogueStore, ScheduleSummary } from '../domain/ports.js'

export function createPrismaCatalogueStore(db: PrismaClient, pool: Pool): CatalogueStore {
  return {
    async listConcerts() {
      const rows = await db.concert.findMany({ orderBy: { createdAt: 'asc' } })
      return rows.map((c) => ({ concertId: c.id, title: c.title, artist: c.artist, venue: c.venue }))
    },
    async concertExists(concertId) {
      return (await db.concert.count({ where: { id: concertId } })) > 0
    },
    async listSchedules(concertId, now) {
      // A seat is available when free, or when its hold ran out (the sweeper may not have run yet).
      const rows = await pool.query<{ id: string; starts_at: Date; booking_opens_at: Date; total_seats: number; available: bigint | number }[]>(
        `SELECT s.id, s.starts_at, s.booking_opens_at, s.total_seats,
                (SELECT COUNT(*) FROM seats t WHERE t.schedule_id = s.id
                   AND (t.status = 'AVAILABLE' OR (t.status = 'HELD' AND t.hold_until <= ?))) AS available
           FROM schedules s WHERE s.concert_id = ? ORDER BY s.starts_at`,
        [now, concertId],
      )
      return rows.map(
        (r): ScheduleSummary => ({
          scheduleId: r.id,
          concertId,
          startsAt: r.starts_at.toISOString(),
          bookingOpensAt: r.booking_opens_at.toISOString(),
          totalSeats: r.total_seats,
          availableSeats: Number(r.available),
        }),
      )
    },
  }
}
