import underPressure from '@fastify/under-pressure'
import { AppError } from '@tickets/contracts/errors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'

export interface SheddingOptions {
  maxEventLoopDelayMs: number
  maxEventLoopUtilization: number
  joinMaxEventLoopDelayMs: number
  joinMaxEventLoopUtilization: number
  sampleIntervalMs: number
  retryAfterSeconds: number
  /** `join` requests (into the waiting room) are shed at the lower thresholds. */
  classOf(request: FastifyRequest): 'join' | 'default'
}

/** The liveness check must answer exactly when the gateway is struggling (readiness and metrics are on the admin listener). */
const NEVER_SHED = /^\/health($|\?)/

/**
 * @fastify/under-pressure samples event-loop delay and utilisation; past a threshold a request is
 * answered 503 + Retry-After before any work is done, so latency stays flat instead of collapsing.
 * Joins to the line have lower thresholds than everything else: a fan already buying (hold,
 * payment) is worth more than a new one joining, who is told to come back in a moment.
 */
export default fp(
  async (app: FastifyInstance, opts: SheddingOptions) => {
    const shed = new Counter({
      name: 'gateway_shed_total',
      help: 'Requests answered 503 by load shedding, by class',
      labelNames: ['class'],
      registers: [app.metrics],
    })
    const limits = {
      join: { delay: opts.joinMaxEventLoopDelayMs, utilization: opts.joinMaxEventLoopUtilization },
      default: { delay: opts.maxEventLoopDelayMs, utilization: opts.maxEventLoopUtilization },
    }
    // The first samples measure start-up (module loading, plugin setup), not traffic: a restarted
    // instance would shed its first requests. Decisions start once a whole sample after ready exists.
    let armedAt = Number.POSITIVE_INFINITY
    app.addHook('onReady', async () => {
      armedAt = Date.now() + 2 * opts.sampleIntervalMs
    })
    await app.register(underPressure, {
      // The lowest thresholds trigger the handler; it then applies the request's own class.
      maxEventLoopDelay: Math.min(limits.join.delay, limits.default.delay),
      maxEventLoopUtilization: Math.min(limits.join.utilization, limits.default.utilization),
      sampleInterval: opts.sampleIntervalMs,
      eventLoopUtilizationMode: 'interval',
      retryAfter: opts.retryAfterSeconds,
      pressureHandler: (request) => {
        if (NEVER_SHED.test(request.url) || Date.now() < armedAt) return undefined
        const cls = opts.classOf(request)
        const usage = app.memoryUsage()
        if (usage.eventLoopDelay <= limits[cls].delay && usage.eventLoopUtilized <= limits[cls].utilization) return undefined
        shed.inc({ class: cls })
        return Promise.reject(
          new AppError('COMMON_OVERLOADED', 'The gateway is overloaded; retry after the delay in Retry-After', {
            headers: { 'retry-after': String(opts.retryAfterSeconds) },
          }),
        )
      },
    })
  },
  { name: 'shedding', dependencies: ['metrics'] },
)
