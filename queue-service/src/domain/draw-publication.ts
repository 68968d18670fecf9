import { DRAW_ALGORITHM, drawScore } from '@tickets/contracts/draw'
import { AppError } from '@tickets/contracts/errors'
import type { DrawRecord, DrawStore } from './ports.js'

/** What anyone may read of a concert's draw (`docs/api.md`, the draw): never the seed before the draw is made. */
export interface DrawInfo {
  concertId: string
  status: 'PRE_QUEUE' | 'DRAWING' | 'DRAWN'
  algorithm: string
  opensAt: string
  preQueueOpensAt: string
  seedHash: string
  committedAt: string
  entries: number
  frozenAt?: string
  digest?: string
  seed?: string
  drawnAt?: string
  /** The arrival number of the first drawn place; later joins come after base + entries. */
  firstArrivalNumber?: number
}

const iso = (ms: number) => new Date(ms).toISOString()
const STATUS: Record<DrawRecord['state'], DrawInfo['status']> = { open: 'PRE_QUEUE', frozen: 'DRAWING', drawn: 'DRAWN' }

export function createDrawPublication(deps: { store: DrawStore }) {
  const { store } = deps

  async function recordOf(concertId: string): Promise<DrawRecord> {
    const record = await store.record(concertId)
    if (!record) throw new AppError('QUEUE_DRAW_NOT_FOUND', `Concert ${concertId} has no draw: its opening had no pre-queue, or its draw is no longer kept`)
    return record
  }

  async function drawn(concertId: string): Promise<DrawRecord & { seed: string; digest: string }> {
    const record = await recordOf(concertId)
    if (record.state !== 'drawn' || record.seed === null || record.digest === null)
      throw new AppError('QUEUE_DRAW_NOT_DRAWN', `The draw of concert ${concertId} is published once it is made, at ${iso(record.opensAt)}`)
    return record as DrawRecord & { seed: string; digest: string }
  }

  return {
    async info(concertId: string): Promise<DrawInfo> {
      const r = await recordOf(concertId)
      const info: DrawInfo = {
        concertId,
        status: STATUS[r.state],
        algorithm: DRAW_ALGORITHM,
        opensAt: iso(r.opensAt),
        preQueueOpensAt: iso(r.preQueueFrom),
        seedHash: r.seedHash,
        committedAt: iso(r.committedAt),
        entries: r.entries,
      }
      if (r.frozenAt !== null) info.frozenAt = iso(r.frozenAt)
      if (r.digest !== null) info.digest = r.digest
      if (r.base !== null && r.state !== 'open') info.firstArrivalNumber = r.base + 1
      if (r.seed !== null) info.seed = r.seed
      if (r.drawnAt !== null) info.drawnAt = iso(r.drawnAt)
      return info
    },

    /** The drawn order from place offset + 1, at most `limit` entries. */
    async entries(concertId: string, offset: number, limit: number): Promise<{ concertId: string; entries: number; offset: number; order: string[] }> {
      const r = await drawn(concertId)
      const order = offset >= r.entries ? [] : await store.orderPage({ concertId, offset, limit })
      return { concertId, entries: r.entries, offset, order }
    },

    /** One entry's place, with what recomputes its score. */
    async entry(concertId: string, entryId: string) {
      const r = await drawn(concertId)
      const place = await store.placeOf({ concertId, entryId })
      if (place === null) throw new AppError('QUEUE_DRAW_ENTRY_NOT_FOUND', `Entry ${entryId} is not in the draw of concert ${concertId}`)
      return { concertId, entryId, place, entries: r.entries, score: drawScore(r.seed, r.digest, entryId), seed: r.seed, digest: r.digest }
    },
  }
}

export type DrawPublication = ReturnType<typeof createDrawPublication>
