import { LINE_SUMMARY_FIELDS, parseLineSummary, queueLineSummaryKey, type LineSummary } from '@tickets/contracts/queue-line'
import { repeat } from '@tickets/shared/background'
import type { RedisClient, RedisGuard } from '@tickets/shared/redis'

interface Entry {
  summary: LineSummary | null
  /** When this gateway saw the step's summary change (its own clock: no comparison across hosts). */
  changedAt: number | null
  askedAt: number
}

/**
 * The admission steps' summaries of the lines fans are polling, read in one batch per interval
 * for the concerts asked about lately; the request path only reads memory. A summary counts as
 * current while steps keep changing it: one that stopped changing (the queue service stalled, Redis
 * unreachable) is not used after `maxAgeMs`, and the polls go to the queue service again.
 */
export function createRedisLineSummaries(redis: RedisClient, opts: { refreshMs: number; maxAgeMs: number; guard: RedisGuard; onError?: (err: unknown) => void }) {
  const entries = new Map<string, Entry>()
  // A concert nobody polled for this long is no longer read.
  const forgetAfterMs = Math.max(30_000, opts.maxAgeMs * 10)

  async function refresh(): Promise<void> {
    const now = Date.now()
    const concerts: string[] = []
    for (const [concertId, entry] of entries) {
      if (now - entry.askedAt > forgetAfterMs) entries.delete(concertId)
      else concerts.push(concertId)
    }
    if (concerts.length === 0 || !opts.guard.usable()) return
    // One command per concert, sent in one write by auto-pipelining (per node on a cluster, where
    // each concert's keys live in their own slot).
    const results = await opts.guard.run(async () => {
      const settled = await Promise.allSettled(concerts.map((concertId) => redis.hmget(queueLineSummaryKey(concertId), ...LINE_SUMMARY_FIELDS)))
      const failed = settled.find((r) => r.status === 'rejected')
      // Every read failed: Redis did, and the guard is told.
      if (failed && settled.every((r) => r.status === 'rejected')) throw failed.reason
      return settled
    })
    const readAt = Date.now()
    concerts.forEach((concertId, i) => {
      const entry = entries.get(concertId)
      const result = results[i]
      if (!entry || result?.status !== 'fulfilled') return
      const values = result.value
      const summary = parseLineSummary(values)
      if (summary && entry.summary && summary.at !== entry.summary.at) entry.changedAt = readAt
      entry.summary = summary
    })
  }

  const work = repeat(() => refresh().catch((err: unknown) => opts.onError?.(err)), { intervalMs: opts.refreshMs })

  return {
    /** The concert's current summary, or null (not read yet, or not current): then the queue service answers. */
    current(concertId: string): LineSummary | null {
      const now = Date.now()
      const entry = entries.get(concertId)
      if (!entry) {
        entries.set(concertId, { summary: null, changedAt: null, askedAt: now })
        return null
      }
      entry.askedAt = now
      if (entry.summary === null || entry.changedAt === null || now - entry.changedAt > opts.maxAgeMs) return null
      return entry.summary
    },
    /** Reads now (in tests, and to start without waiting for the first interval). */
    refresh,
    stop: () => work.stop(),
  }
}

export type LineSummaries = ReturnType<typeof createRedisLineSummaries>
