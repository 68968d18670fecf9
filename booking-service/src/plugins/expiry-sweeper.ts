import type { FastifyBaseLogger } from 'fastify'
import type { ReservationService } from '../domain/reservation-service.js'

/**
 * Releases holds past their deadline with nobody acting. Several instances may run it: the sweep
 * takes its seats with SKIP LOCKED, so they split the work instead of waiting on each other.
 */
export function startExpirySweeper(reservations: ReservationService, opts: { intervalMs: number; log: FastifyBaseLogger; batch?: number }) {
  const batch = opts.batch ?? 200
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined

  async function pass() {
    try {
      while (!stopped && (await reservations.sweep(batch)) === batch) {
        // a full batch: there may be more
      }
    } catch (err) {
      opts.log.warn({ err }, 'expiry sweep failed, will retry')
    }
  }

  function schedule() {
    if (stopped) return
    timer = setTimeout(() => {
      running = pass().finally(() => {
        running = undefined
        schedule()
      })
    }, opts.intervalMs)
    timer.unref()
  }

  schedule()
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
