import { fileURLToPath } from 'node:url'
import { applyMigrations } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { createRedis } from '@tickets/shared/redis'
import { createMariadbSeatStore } from './adapters/mariadb-seat-store.js'
import { createPrismaCatalogueStore } from './adapters/prisma-catalogue-store.js'
import { createRedisCache } from './adapters/redis-cache.js'
import { createRedisRankingStore } from './adapters/redis-ranking-store.js'
import { createCachedReader } from './domain/cached-reader.js'
import { createCatalogueService } from './domain/catalogue-service.js'
import { createDbClient } from './plugins/db.js'

export const migrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url))
export const schemaPath = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url))

export function migrate(url: string) {
  return applyMigrations(url, migrationsDir)
}

const GRADES = [
  { grade: 'VIP', upTo: 10, price: 165_000 },
  { grade: 'R', upTo: 30, price: 132_000 },
  { grade: 'S', upTo: 50, price: 99_000 },
]

export function gradeOf(seatNumber: number, totalSeats = 50) {
  const scaled = Math.ceil((seatNumber / totalSeats) * 50)
  return GRADES.find((g) => scaled <= g.upTo) ?? GRADES[GRADES.length - 1]!
}

const DEMO = [
  { id: '01936b2e-0000-7000-8000-000000000001', title: 'IU HEREH World Tour', artist: 'IU', venue: 'KSPO Dome, Seoul' },
  { id: '01936b2e-0000-7000-8000-000000000002', title: 'BTS Yet To Come', artist: 'BTS', venue: 'Busan Asiad Main Stadium' },
  { id: '01936b2e-0000-7000-8000-000000000003', title: 'NewJeans Bunnies Camp', artist: 'NewJeans', venue: 'Tokyo Dome' },
]

/** The demo catalogue: a few concerts, two dates each, 50 seats per date in three grades. Idempotent. */
export async function seedDemoCatalogue(url: string, opts: { now?: Date; seatsPerSchedule?: number } = {}) {
  const pool = createPool({ url, connectionLimit: 2, acquireTimeoutMs: 5_000 })
  const db = createDbClient(pool)
  const now = opts.now ?? new Date()
  const seats = opts.seatsPerSchedule ?? 50
  try {
    await db.concert.createMany({ data: DEMO, skipDuplicates: true })
    const schedules = DEMO.flatMap((c, i) =>
      [0, 1].map((d) => ({
        id: `${c.id.slice(0, -2)}${String(10 + i * 2 + d).padStart(2, '0')}`,
        concertId: c.id,
        startsAt: new Date(now.getTime() + (30 + d * 7 + i) * 86_400_000),
        bookingOpensAt: new Date(now.getTime() - 3_600_000),
        totalSeats: seats,
      })),
    )
    await db.schedule.createMany({ data: schedules, skipDuplicates: true })
    await db.seat.createMany({
      data: schedules.flatMap((s) =>
        Array.from({ length: seats }, (_, n) => {
          const g = gradeOf(n + 1, seats)
          return { scheduleId: s.id, seatNumber: n + 1, grade: g.grade, price: g.price }
        }),
      ),
      skipDuplicates: true,
    })
    return { concerts: DEMO.length, schedules: schedules.length }
  } finally {
    await db.$disconnect()
    await pool.end()
  }
}

/**
 * Fills the catalogue cache (concert list, dates, seat counts) ahead of an opening, so the first
 * minute of traffic finds warm keys (the manual's 3.4.1). Fails when Redis cannot be written.
 */
export async function warmCatalogueCache(opts: { mysqlUrl: string; redisUrl: string; redisPrefix: string; ttlSeconds?: number }) {
  const pool = createPool({ url: opts.mysqlUrl, connectionLimit: 2, acquireTimeoutMs: 5_000 })
  const db = createDbClient(pool)
  const redis = createRedis(opts.redisUrl, opts.redisPrefix)
  redis.on('error', () => undefined)
  try {
    await redis.ping()
    const catalogue = createCatalogueService({
      store: createPrismaCatalogueStore(db, pool),
      seats: createMariadbSeatStore(pool),
      ranking: createRedisRankingStore(redis),
      reader: createCachedReader({ cache: createRedisCache(redis) }),
      clock: { now: () => new Date() },
      catalogueTtlMs: (opts.ttlSeconds ?? 24 * 3600) * 1000,
      availabilityTtlMs: 800,
    })
    return await catalogue.warm()
  } finally {
    redis.disconnect()
    await db.$disconnect()
    await pool.end()
  }
}
