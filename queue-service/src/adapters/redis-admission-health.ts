import { readPressure } from '@tickets/shared/pressure'
import { createRedisGuard, type RedisClient } from '@tickets/shared/redis'
import { HEALTHY, nextHealth, type BackoffPolicy } from '../domain/admission-backoff.js'
import type { AdmissionHealth } from '../domain/ports.js'

/**
 * The back-off controller fed by the services' pressure reports in Redis. Each instance keeps its
 * own factor from the same reports, so whichever instance runs a step admits at about the same rate.
 */
export function createRedisAdmissionHealth(redis: RedisClient, opts: { policy: BackoffPolicy; maxAgeMs: number; timeoutMs: number }): AdmissionHealth {
  let state = HEALTHY
  let lastRefresh: number | undefined
  const guard = createRedisGuard(redis, { timeoutMs: opts.timeoutMs })

  return {
    // Reports carry wall-clock times, so this reads the wall clock, not the line's clock. A Redis that
    // does not answer keeps the last state.
    async refresh() {
      const now = Date.now()
      const signals = await guard.run(() => readPressure(redis, now, opts.maxAgeMs)).catch(() => undefined)
      if (!signals) return
      state = nextHealth(state, signals, lastRefresh === undefined ? 0 : now - lastRefresh, opts.policy)
      lastRefresh = now
    },
    current: () => ({ factor: state.factor, why: state.why }),
  }
}
