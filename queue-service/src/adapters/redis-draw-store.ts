import { AppError } from '@tickets/contracts/errors'
import { lineScriptRunner } from '@tickets/contracts/line-commands'
import { ENTRY_ID_BYTES, idsOf, PLACE_RECORD_BYTES } from '@tickets/contracts/draw-records'
import { DRAW_APPLY, DRAW_COMMIT, DRAW_FINISH, DRAW_LOCK, DRAW_PLACE } from '@tickets/contracts/line-draw-scripts'
import { lineKeys } from '@tickets/contracts/line-keys'
import { taggedOf } from '@tickets/contracts/lua-script'
import { createRedisGuard, type RedisClient } from '@tickets/shared/redis'
import type { DrawRecord, DrawStore, FrozenEntry } from '../domain/ports.js'

const RETRY_AFTER_S = '2'
// Reading the frozen pre-queue: entries per HSCAN call.
const SCAN_COUNT = 5_000
// The draw's own calls run beside the admission loop, not on a fan's request: a chunk may take
// longer than a fan's call is allowed to, and a chunk that timed out here is not applied twice.
const DRAW_CALL_TIMEOUT_MS = 2_000

// A view of the same bytes: the client sends a Buffer as it is, but any other array as text.
const bufferOf = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

function num(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

function recordOf(h: Record<string, string>, preQueued: number): DrawRecord | null {
  const state = h.state
  if (state !== 'open' && state !== 'frozen' && state !== 'drawn') return null
  return {
    state,
    opensAt: Number(h.opens),
    preQueueFrom: Number(h.from),
    seedHash: h.seedHash ?? '',
    committedAt: Number(h.committedAt),
    entries: state === 'open' ? preQueued : Number(h.n ?? 0),
    frozenAt: num(h.frozenAt),
    base: num(h.base),
    applied: Number(h.applied ?? 0),
    digest: h.digest ?? null,
    seed: state === 'drawn' ? (h.seed ?? null) : null,
    drawnAt: num(h.drawnAt),
  }
}

/** The opening's draw on Redis, under the line's hash tag. Failures are 503 QUEUE_UNAVAILABLE with Retry-After. */
export function createRedisDrawStore(redis: RedisClient, opts: { timeoutMs: number }): DrawStore {
  const run = lineScriptRunner(redis)
  const reads = createRedisGuard(redis, { timeoutMs: opts.timeoutMs, pauseOn: 'silence' })
  const work = createRedisGuard(redis, { timeoutMs: DRAW_CALL_TIMEOUT_MS, pauseOn: 'silence' })

  async function guarded<T>(guard: typeof reads, what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await guard.run(run)
    } catch (cause) {
      throw new AppError('QUEUE_UNAVAILABLE', `The waiting room cannot reach its store (${what}); retry in a moment`, { cause, headers: { 'retry-after': RETRY_AFTER_S } })
    }
  }

  return {
    async commit({ concertId, now, opensAt, preQueueFrom, seed, seedHash }) {
      return guarded(work, 'draw', () => run(DRAW_COMMIT, lineKeys(concertId), { now, opens: opensAt, from: preQueueFrom, seed, seedHash }))
    },

    async preQueueWindowMs(concertId) {
      const seconds = num(await guarded(work, 'draw', () => redis.hget(lineKeys(concertId).settings, 'pqw')))
      return seconds === null ? null : seconds * 1000
    },

    async lock({ concertId, owner, ttlMs }) {
      const r = taggedOf(DRAW_LOCK.reply, await guarded(work, 'draw', () => run(DRAW_LOCK, lineKeys(concertId), { owner, lockTtlMs: ttlMs })))
      if (r?.tag !== 'LOCKED') return { locked: false }
      return { locked: true, seed: r.seed!, base: Number(r.base), entries: Number(r.entries), applied: Number(r.applied) }
    },

    async *frozenEntries(concertId) {
      const key = lineKeys(concertId).preQueueFrozen
      let cursor = '0'
      do {
        const [next, fields] = await guarded(work, 'draw', () => redis.hscan(key, cursor, 'COUNT', SCAN_COUNT))
        const batch: FrozenEntry[] = []
        for (let i = 0; i < fields.length; i += 2) {
          const value = fields[i + 1]!
          const colon = value.indexOf(':')
          batch.push({ userId: fields[i]!, salt: value.slice(0, colon), joinedAt: Number(value.slice(colon + 1)) })
        }
        yield batch
        cursor = next
      } while (cursor !== '0')
    },

    async applyChunk({ concertId, owner, start, now, ttlMs, draw, fans }) {
      const end = start + fans.length
      const argv = {
        owner,
        start,
        now,
        lockTtlMs: ttlMs,
        digest: draw.digest,
        ids: bufferOf(draw.ids.subarray(start * ENTRY_ID_BYTES, end * ENTRY_ID_BYTES)),
        places: bufferOf(draw.places.subarray(start * PLACE_RECORD_BYTES, end * PLACE_RECORD_BYTES)),
      }
      const [outcome] = await guarded(work, 'draw', () => run(DRAW_APPLY, lineKeys(concertId), argv, fans))
      return outcome as keyof typeof DRAW_APPLY.reply
    },

    async finish({ concertId, owner, now, retentionMs, digest }) {
      return guarded(work, 'draw', () => run(DRAW_FINISH, lineKeys(concertId), { owner, now, retentionMs, digest }))
    },

    async record(concertId) {
      const k = lineKeys(concertId)
      const [h, preQueued] = await guarded(reads, 'draw', () => Promise.all([redis.hgetall(k.draw), redis.hlen(k.preQueue)]))
      return recordOf(h, preQueued)
    },

    async orderPage({ concertId, offset, limit }) {
      const stretch = await guarded(reads, 'draw', () => redis.getrange(lineKeys(concertId).drawOrder, offset * ENTRY_ID_BYTES, (offset + limit) * ENTRY_ID_BYTES - 1))
      return idsOf(stretch)
    },

    async placeOf({ concertId, entryId }) {
      const place = await guarded(reads, 'draw', () => run(DRAW_PLACE, lineKeys(concertId), { entryId, recordBytes: PLACE_RECORD_BYTES }))
      return place > 0 ? place : null
    },
  }
}
