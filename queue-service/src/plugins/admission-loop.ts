import type { BackgroundWork } from '@tickets/shared/background'
import type { FastifyBaseLogger } from 'fastify'
import type { QueueService } from '../domain/queue-service.js'

/**
 * Calls the admission step twice per tick on every instance; the tick number kept in Redis lets
 * exactly one call per tick and concert do the work, so a timer that drifts or an instance that
 * stops costs nothing. Redis trouble is logged once until it clears, and the loop keeps going.
 * A fixed rate (not a pause after each step, as `repeat` does) keeps two calls in every tick.
 */
export function startAdmissionLoop(opts: { queue: QueueService; tickMs: number; log: FastifyBaseLogger }): BackgroundWork {
  const { queue, log } = opts
  let failing = false
  let running: Promise<void> | undefined
  const timer = setInterval(
    () => {
      if (running) return
      running = queue
        .tick()
        .then(() => {
          if (failing) log.info('admission steps run again')
          failing = false
        })
        .catch((err: unknown) => {
          if (!failing) log.warn({ err }, 'admission step failed; retrying every tick')
          failing = true
        })
        .finally(() => {
          running = undefined
        })
    },
    Math.max(50, Math.floor(opts.tickMs / 2)),
  )
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
