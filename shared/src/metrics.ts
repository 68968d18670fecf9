import type { FastifyInstance, FastifyRequest } from 'fastify'
import { trace } from '@opentelemetry/api'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { tracingOn } from './tracing-gear.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry
  }
  interface FastifyRequest {
    metricsStart?: bigint
  }
}

export interface MetricsOptions {
  service: string
  /** Default Node metrics (event loop, heap, GC); off in tests that build many apps. */
  defaultMetrics?: boolean
  /** A request slower than this is marked on its span (`tickets.slow`) so tail sampling keeps it. */
  slowRequestMs?: number
}

/** Spans dropped by the exporter's bounded queue (collector down or too slow); set by the telemetry bootstrap. */
export const telemetryCounters = { droppedSpans: 0 }

const NOT_MEASURED = new Set(['/health'])

function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched'
}

/**
 * A registry per app instance (never the global one: tests build many apps in one process) and the
 * HTTP request-duration histogram by route template, method and status. The admin listener serves it.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: MetricsOptions) => {
    // OpenMetrics, so the duration histogram can carry trace-id exemplars (a latency spike leads to a trace).
    const registry = new Registry()
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never)
    registry.setDefaultLabels({ service: opts.service })
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 })
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status code',
      labelNames: ['route', 'method', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
      registers: [registry],
      enableExemplars: true,
    })
    new Gauge({
      name: 'otel_spans_dropped',
      help: 'Spans dropped because the export queue was full (collector down or slow)',
      registers: [registry],
      collect() {
        this.set(telemetryCounters.droppedSpans)
      },
    })
    new Gauge({
      name: 'otel_tracing_active',
      help: '1 while spans are made and exported; 0 with no collector configured or while it fails (correlation ids only)',
      registers: [registry],
      collect() {
        this.set(tracingOn() ? 1 : 0)
      },
    })
    const slowSeconds = (opts.slowRequestMs ?? 1_000) / 1000
    app.decorate('metrics', registry)
    // Callback-style hooks: an async one costs every request a promise and a microtask.
    app.addHook('onRequest', (request, _reply, done) => {
      request.metricsStart = process.hrtime.bigint()
      // One server span per request (the HTTP instrumentation's), named after the route template:
      // per-hook spans cost about a quarter of a small route's throughput.
      const span = trace.getActiveSpan()
      const route = span ? request.routeOptions.url : undefined
      if (span && route) {
        span.setAttribute('http.route', route)
        span.updateName(`${request.method} ${route}`)
      }
      done()
    })
    const observe = (request: FastifyRequest, reply: { statusCode: number }) => {
      const route = routeOf(request)
      if (NOT_MEASURED.has(route) || request.metricsStart === undefined) return
      const seconds = Number(process.hrtime.bigint() - request.metricsStart) / 1e9
      const labels = { route, method: request.method, status_code: String(reply.statusCode) }
      const span = trace.getActiveSpan()
      const traceId = span?.spanContext().traceId
      if (span && seconds > slowSeconds) span.setAttribute('tickets.slow', true)
      // With exemplars on, prom-client only records the object form of observe().
      const exemplarLabels = traceId && span?.isRecording() ? { trace_id: traceId } : {}
      duration.observe({ labels, value: seconds, exemplarLabels: exemplarLabels as unknown as typeof labels })
    }
    app.addHook('onResponse', (request, reply, done) => {
      observe(request, reply)
      done()
    })
  },
  { name: 'metrics', fastify: '5.x' },
)
