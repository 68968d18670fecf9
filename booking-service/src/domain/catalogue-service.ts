import { AppError } from '@tickets/contracts/errors'
import type { CachedReader } from './cached-reader.js'
import type { CatalogueStore, Clock, RankingStore, ScheduleDates, ScheduleSummary, SeatStore } from './ports.js'

export interface CatalogueDeps {
  store: CatalogueStore
  seats: SeatStore
  ranking: RankingStore
  reader: CachedReader
  clock: Clock
  catalogueTtlMs: number
  availabilityTtlMs: number
  onRankingError?: (err: unknown) => void
}

export const CACHE_KEYS = {
  concerts: 'catalogue:concerts',
  schedules: (concertId: string) => `catalogue:schedules:${concertId}`,
  availability: (concertId: string) => `catalogue:availability:${concertId}`,
}

const NOT_FOUND_TTL_MS = 5_000

interface CachedSchedules {
  exists: boolean
  schedules: ScheduleDates[]
}

export function createCatalogueService(deps: CatalogueDeps) {
  const { store, reader, clock } = deps

  const scheduleDates = (concertId: string) =>
    // "No such concert" is kept briefly: a concert added later must not stay hidden for the long TTL.
    reader.read<CachedSchedules>(
      CACHE_KEYS.schedules(concertId),
      (v) => (v.exists ? deps.catalogueTtlMs : Math.min(deps.catalogueTtlMs, NOT_FOUND_TTL_MS)),
      async () => {
        const schedules = await store.listScheduleDates(concertId)
        return { exists: schedules.length > 0 || (await store.concertExists(concertId)), schedules }
      },
    )

  const concerts = () => reader.read(CACHE_KEYS.concerts, deps.catalogueTtlMs, () => store.listConcerts())

  return {
    listConcerts: concerts,

    async listSchedules(concertId: string): Promise<ScheduleSummary[]> {
      const dates = await scheduleDates(concertId)
      if (!dates.exists) throw new AppError('BOOKING_CONCERT_NOT_FOUND', `Concert ${concertId} does not exist`)
      if (dates.schedules.length === 0) return []
      // Counts are cached for less than a second, so a seat change shows within a second.
      const available = await reader.read(CACHE_KEYS.availability(concertId), deps.availabilityTtlMs, () => store.countAvailable(concertId, clock.now()))
      return dates.schedules.map((s) => ({ ...s, availableSeats: available[s.scheduleId] ?? 0 }))
    },

    /** The seat map of one date: exact, read from the database. */
    async seatMap(input: { concertId: string; scheduleId: string; queueConcertId?: string | undefined }) {
      if (input.queueConcertId !== undefined && input.queueConcertId !== input.concertId) {
        throw new AppError('QUEUE_TOKEN_FORBIDDEN', 'The queue token was issued for another concert')
      }
      const dates = await scheduleDates(input.concertId)
      if (!dates.exists) throw new AppError('BOOKING_CONCERT_NOT_FOUND', `Concert ${input.concertId} does not exist`)
      if (!dates.schedules.some((s) => s.scheduleId === input.scheduleId)) {
        throw new AppError('BOOKING_SCHEDULE_NOT_FOUND', `Schedule ${input.scheduleId} is not a date of concert ${input.concertId}`)
      }
      return deps.seats.seatMap(input.scheduleId, clock.now())
    },

    /** Fastest sell-outs first, from the sorted set; straight from the database when Redis is down. */
    async ranking(limit: number) {
      let top
      try {
        top = await deps.ranking.top(limit)
      } catch (err) {
        deps.onRankingError?.(err)
        top = (await store.listSoldOut()).sort((a, b) => a.seconds - b.seconds).slice(0, limit)
      }
      const byId = new Map((await concerts()).map((c) => [c.concertId, c]))
      return top.map((s, i) => ({
        rank: i + 1,
        concertId: s.concertId,
        title: byId.get(s.concertId)?.title ?? '',
        artist: byId.get(s.concertId)?.artist ?? '',
        sellOutSeconds: s.seconds,
      }))
    },

    /** Recomputes one concert's place from the database: idempotent, whatever order events arrive in. */
    async refreshRanking(concertId: string) {
      const sellOut = await store.sellOutOf(concertId)
      if (sellOut) await deps.ranking.put(sellOut)
      else await deps.ranking.remove(concertId)
    },

    /** Fills the long-lived keys ahead of an opening (the manual's 3.4.1 cache warming); seat counts live under a second and are not warmed. */
    async warm() {
      const list = await store.listConcerts()
      let written = (await reader.put(CACHE_KEYS.concerts, list, deps.catalogueTtlMs)) ? 1 : 0
      for (const c of list) {
        const schedules = await store.listScheduleDates(c.concertId)
        if (await reader.put(CACHE_KEYS.schedules(c.concertId), { exists: true, schedules } satisfies CachedSchedules, deps.catalogueTtlMs)) written++
      }
      return { concerts: list.length, keys: written }
    },
  }
}
export type CatalogueService = ReturnType<typeof createCatalogueService>
