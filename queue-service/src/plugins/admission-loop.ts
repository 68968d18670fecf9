import type { FastifyInstance } from 'fastify'
import type { QueueService } from '../domain/queue-service.js'

/**
 * Calls the admission step twice per tick on every instance; the tick number kept in Redis lets
 * exactly one call per tick and concert do the work, so a timer that drifts or an instance that
 * stops costs nothing. Redis trouble is logged once until it clears, and the loop keeps going.
 */
export function startAdmissionLoop(app: FastifyInstance, queue: QueueService, tickMs: number): () => void {
  const log = app.log.child({ component: 'admission-loop' })
  let failing = false
  let running = false
  const timer = setInterval(
    () => {
      if (running) return
      running = true
      queue
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
          running = false
        })
    },
    Math.max(50, Math.floor(tickMs / 2)),
  )
  timer.unref()
  return () => clearInterval(timer)
}
