import { GATEWAY_CAPACITY_KEY, staleReports, totalCapacity } from '@tickets/contracts/answer-capacity'
import { createRedisGuard, type RedisClient } from '@tickets/shared/redis'
import type { AnswerCapacity } from '../domain/ports.js'

/**
 * The gateways' capacity reports, of which `share` goes to waiting fans' polls: the rest is for
 * joins and for the fans already buying. Read at most once per `refreshMs`.
 */
export function createRedisAnswerCapacity(redis: RedisClient, opts: { share: number; refreshMs: number; timeoutMs: number }): AnswerCapacity {
  const guard = createRedisGuard(redis, { timeoutMs: opts.timeoutMs })
  let polls: number | null = null
  let readAt = Number.NEGATIVE_INFINITY

  return {
    async refresh() {
      const now = Date.now()
      if (now - readAt < opts.refreshMs) return
      const reports = await guard.run(() => redis.hgetall(GATEWAY_CAPACITY_KEY)).catch(() => undefined)
      if (!reports) return
      readAt = now
      const total = totalCapacity(reports, now)
      polls = total === null ? null : total * opts.share
      const stale = staleReports(reports, now)
      if (stale.length > 0) await guard.run(() => redis.hdel(GATEWAY_CAPACITY_KEY, ...stale)).catch(() => undefined)
    },
    pollsPerSecond: () => polls,
  }
}
