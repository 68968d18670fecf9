import { fileURLToPath } from 'node:url'
import { uuidv7 } from 'uuidv7'
import { applyMigrations } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { createRedis, createRedisGuard, whenRedisReady } from '@tickets/shared/redis'
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

type Db = ReturnType<typeof createDbClient>

export interface NewConcert {
  id: string
  title: string
  artist: string
  venue: string
  /** Schedule ids, one per date (the first date 30 days from now, then a week apart). */
  scheduleIds: string[]
  seatsPerSchedule: number
  now: Date
  /** Added to every date, so that several concerts do not all play the same day. */
  offsetDays?: number
  /** When booking opens (the sell-out ranking counts from here); default an hour before `now`. */
  opensAt?: Date
}

/** A concert with its dates and seats (VIP/R/S by position). Idempotent: existing rows are kept. */
async function createConcertRows(db: Db, c: NewConcert) {
  await db.concert.createMany({ data: [{ id: c.id, title: c.title, artist: c.artist, venue: c.venue }], skipDuplicates: true })
  const schedules = c.scheduleIds.map((id, d) => ({
    id,
    concertId: c.id,
    startsAt: new Date(c.now.getTime() + (30 + d * 7 + (c.offsetDays ?? 0)) * 86_400_000),
    bookingOpensAt: c.opensAt ?? new Date(c.now.getTime() - 3_600_000),
    totalSeats: c.seatsPerSchedule,
  }))
  await db.schedule.createMany({ data: schedules, skipDuplicates: true })
  await db.seat.createMany({
    data: schedules.flatMap((s) =>
      Array.from({ length: c.seatsPerSchedule }, (_, n) => {
        const g = gradeOf(n + 1, c.seatsPerSchedule)
        return { scheduleId: s.id, seatNumber: n + 1, grade: g.grade, price: g.price }
      }),
    ),
    skipDuplicates: true,
  })
  return schedules.length
}

async function withDb<T>(url: string, work: (db: Db) => Promise<T>): Promise<T> {
  const pool = createPool({ url, connectionLimit: 2, acquireTimeoutMs: 5_000 })
  const db = createDbClient(pool)
  try {
    return await work(db)
  } finally {
    await db.$disconnect()
    await pool.end()
  }
}

/** The demo catalogue: a few concerts, two dates each, 50 seats per date in three grades. Idempotent. */
export async function seedDemoCatalogue(url: string, opts: { now?: Date; seatsPerSchedule?: number } = {}) {
  const now = opts.now ?? new Date()
  const seats = opts.seatsPerSchedule ?? 50
  return withDb(url, async (db) => {
    let schedules = 0
    for (const [i, c] of DEMO.entries()) {
      const scheduleIds = [0, 1].map((d) => `${c.id.slice(0, -2)}${String(10 + i * 2 + d).padStart(2, '0')}`)
      schedules += await createConcertRows(db, { ...c, scheduleIds, seatsPerSchedule: seats, now, offsetDays: i })
    }
    return { concerts: DEMO.length, schedules }
  })
}

/**
 * A new concert (for a load run or a rehearsal): fresh ids, every seat available, on sale from
 * `opensAt` (default now).
 */
export async function createConcert(url: string, opts: { title: string; dates?: number; seatsPerSchedule?: number; now?: Date; opensAt?: Date }) {
  const id = uuidv7()
  const scheduleIds = Array.from({ length: opts.dates ?? 2 }, () => uuidv7())
  const seatsPerSchedule = opts.seatsPerSchedule ?? 50
  const now = opts.now ?? new Date()
  const opensAt = opts.opensAt ?? now
  await withDb(url, (db) => createConcertRows(db, { id, title: opts.title, artist: 'Load test', venue: 'Rehearsal hall', scheduleIds, seatsPerSchedule, now, opensAt }))
  return { concertId: id, scheduleIds, seats: scheduleIds.length * seatsPerSchedule, opensAt: opensAt.toISOString() }
}

/**
 * Moves a concert's opening: every date's booking opens at `opensAt`. The waiting room learns it at
 * its next resync with booking (INVENTORY_RESYNC_SECONDS). Returns the dates changed (0: no such concert).
 */
export async function setConcertOpening(url: string, concertId: string, opensAt: Date): Promise<number> {
  return withDb(url, async (db) => (await db.schedule.updateMany({ where: { concertId }, data: { bookingOpensAt: opensAt } })).count)
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
    if (!(await whenRedisReady(redis, 3_000))) throw new Error(`Redis at ${opts.redisUrl} is not reachable: the cache cannot be warmed`)
    const catalogue = createCatalogueService({
      store: createPrismaCatalogueStore(db, pool),
      seats: createMariadbSeatStore(pool),
      ranking: createRedisRankingStore(redis),
      reader: createCachedReader({ cache: createRedisCache(redis, createRedisGuard(redis, { timeoutMs: 2_000 })) }),
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
