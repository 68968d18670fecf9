import { readPressure } from '@tickets/shared/pressure'
import type { Redis } from 'ioredis'
import { HEALTHY, nextHealth, type BackoffPolicy, type HealthState } from '../domain/admission-backoff.js'
import type { AdmissionHealth } from '../domain/ports.js'

/**
 * The back-off controller fed by the services' pressure reports in Redis. Each instance keeps its
 * own factor from the same reports, so whichever instance runs a step admits at about the same rate.
 */
export function createRedisAdmissionHealth(redis: Redis, opts: { policy: BackoffPolicy; maxAgeMs: number; timeoutMs: number }): AdmissionHealth & { state(): HealthState } {
  let state = HEALTHY
  let lastRefresh: number | undefined

  return {
    // Reports carry wall-clock times, so this reads the wall clock, not the line's clock.
    async refresh() {
      const now = Date.now()
      if (redis.status !== 'ready') return
      let timer: NodeJS.Timeout | undefined
      const signals = await Promise.race([
        readPressure(redis, now, opts.maxAgeMs),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), opts.timeoutMs)
        }),
      ])
        .catch(() => undefined)
        .finally(() => clearTimeout(timer))
      if (!signals) return
      state = nextHealth(state, signals, lastRefresh === undefined ? 0 : now - lastRefresh, opts.policy)
      lastRefresh = now
    },
    current: () => ({ factor: state.factor, why: state.why }),
    state: () => state,
  }
}
