import { repeat, type BackgroundWork } from '@tickets/shared/background'
import type { FastifyBaseLogger } from 'fastify'
import type { ReservationService } from '../domain/reservation-service.js'

/**
 * Releases holds past their deadline with nobody acting. Several instances may run it: the sweep
 * takes its seats with SKIP LOCKED, so they split the work instead of waiting on each other.
 */
export function startExpirySweeper(reservations: ReservationService, opts: { intervalMs: number; log: FastifyBaseLogger; batch?: number }): BackgroundWork {
  const batch = opts.batch ?? 200
  return repeat(
    async (stopping) => {
      try {
        while (!stopping.aborted && (await reservations.sweep(batch)) === batch) {
          // a full batch: there may be more
        }
      } catch (err) {
        opts.log.warn({ err }, 'expiry sweep failed, will retry')
      }
    },
    { intervalMs: opts.intervalMs },
  )
}
