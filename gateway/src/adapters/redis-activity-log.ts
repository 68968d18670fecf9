import { queueActivityKey } from '@tickets/shared/queue-token'
import type { Redis } from 'ioredis'

/**
 * The waiting room releases an ACTIVE fan who holds nothing and was not seen for a while. Seeing a
 * fan is one Set insert on the request path; the sightings go to Redis in one pipeline per interval,
 * stamped with the flush time (the idle timeout is far longer than the interval). `ZADD XX GT` only
 * refreshes fans the line still counts as ACTIVE and never moves a sighting back in time.
 */
export function createRedisActivityLog(redis: Redis, opts: { flushMs: number; maxPerFlush?: number; onError?: (err: unknown) => void }) {
  const maxPerFlush = opts.maxPerFlush ?? 200_000
  let pending = new Map<string, Set<string>>()
  let size = 0
  let flushing: Promise<void> | undefined

  async function flush(): Promise<void> {
    if (size === 0 || redis.status !== 'ready') return
    const batch = pending
    pending = new Map()
    size = 0
    const now = Date.now()
    const pipeline = redis.pipeline()
    for (const [concertId, users] of batch) {
      const args: (string | number)[] = []
      for (const userId of users) args.push(now, userId)
      pipeline.zadd(queueActivityKey(concertId), 'XX', 'GT', ...args)
    }
    const results = await pipeline.exec()
    const failed = results?.find(([err]) => err)
    if (failed) throw failed[0]
  }

  const timer = setInterval(() => {
    if (flushing) return
    flushing = flush()
      .catch((err: unknown) => opts.onError?.(err))
      .finally(() => {
        flushing = undefined
      })
  }, opts.flushMs)
  timer.unref()

  return {
    seen(concertId: string, userId: string): void {
      let users = pending.get(concertId)
      if (!users) {
        users = new Set()
        pending.set(concertId, users)
      }
      if (users.has(userId) || size >= maxPerFlush) return
      users.add(userId)
      size += 1
    },
    /** Sends what is pending now (on close, and in tests). */
    async flush(): Promise<void> {
      await flushing
      await flush().catch((err: unknown) => opts.onError?.(err))
    },
    async close(): Promise<void> {
      clearInterval(timer)
      await this.flush()
    },
  }
}

export type ActivityLog = ReturnType<typeof createRedisActivityLog>
