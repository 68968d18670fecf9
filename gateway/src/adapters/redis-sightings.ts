import { repeat } from '@tickets/shared/background'
import type { RedisClient } from '@tickets/shared/redis'

/**
 * The waiting room drops a fan who was not seen for a while: a WAITING fan who stopped polling, an
 * ACTIVE one who holds nothing. Seeing a fan is one Set insert on the request path; the sightings
 * go to Redis in one batch per interval, stamped with the flush time (the idle timeouts are far
 * longer than the interval), into the ZSET `keyOf(concertId)`. `ZADD XX GT` only refreshes fans the
 * line still counts and never moves a sighting back in time.
 */
export function createRedisSightings(redis: RedisClient, opts: { keyOf: (concertId: string) => string; flushMs: number; maxPerFlush?: number; onError?: (err: unknown) => void }) {
  const maxPerFlush = opts.maxPerFlush ?? 200_000
  let pending = new Map<string, Set<string>>()
  let size = 0

  async function flush(): Promise<void> {
    if (size === 0 || redis.status !== 'ready') return
    const batch = pending
    pending = new Map()
    size = 0
    const now = Date.now()
    // One command per concert (each its own cluster slot), sent in one write by auto-pipelining.
    const sent = [...batch].map(([concertId, users]) => {
      const args: (string | number)[] = []
      for (const userId of users) args.push(now, userId)
      return redis.zadd(opts.keyOf(concertId), 'XX', 'GT', ...args)
    })
    const failed = (await Promise.allSettled(sent)).find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  const reported = () => flush().catch((err: unknown) => opts.onError?.(err))
  const work = repeat(reported, { intervalMs: opts.flushMs })

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
    /** Sends what is pending now (in tests). A flush takes the pending set at once, so two never send the same sightings. */
    flush: reported,
    /** Stops the interval and sends what is left. */
    async stop(): Promise<void> {
      await work.stop()
      await reported()
    },
  }
}

export type Sightings = ReturnType<typeof createRedisSightings>
