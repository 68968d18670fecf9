import { hostname } from 'node:os'
import { performance } from 'node:perf_hooks'
import { encodeCapacity, GATEWAY_CAPACITY_KEY } from '@tickets/contracts/answer-capacity'
import { repeat } from '@tickets/shared/background'
import type { RedisClient, RedisGuard } from '@tickets/shared/redis'
import type { FastifyInstance } from 'fastify'
import { createCapacityMeter } from '../domain/capacity-meter.js'

/**
 * Counts the requests this gateway answers and reports, every `intervalMs`, how many a second it
 * measured it can answer. The queue service spreads returning fans over what all gateways report.
 */
export function reportCapacity(app: FastifyInstance, redis: RedisClient, opts: { instance: string; intervalMs: number; guard: RedisGuard; onError?: (err: unknown) => void }) {
  const field = `${opts.instance}@${hostname()}:${process.pid}`
  const meter = createCapacityMeter()
  let answered = 0
  app.addHook('onResponse', (_request, _reply, done) => {
    answered++
    done()
  })
  let since = performance.now()
  let loop = performance.eventLoopUtilization()

  async function report(): Promise<void> {
    const now = performance.now()
    const window = performance.eventLoopUtilization(loop)
    meter.sample(answered, (now - since) / 1000, window.utilization)
    answered = 0
    since = now
    loop = performance.eventLoopUtilization()
    const capacity = meter.current()
    if (capacity === null || !opts.guard.usable()) return
    await opts.guard.run(() => redis.hset(GATEWAY_CAPACITY_KEY, field, encodeCapacity(capacity, Date.now())))
  }

  return repeat(() => report().catch((err: unknown) => opts.onError?.(err)), { intervalMs: opts.intervalMs })
}
