import { diag, DiagConsoleLogger, DiagLogLevel, TraceFlags } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { PrismaInstrumentation } from '@prisma/instrumentation'
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { telemetryCounters } from './metrics.js'

export interface TelemetrySettings {
  serviceName: string
  /** OTLP/HTTP base URL (e.g. http://collector:4318). None: spans are made (trace ids) but not exported. */
  endpoint?: string | undefined
  sampleRatio: number
  disabled: boolean
}

const IGNORED_PATHS = new Set(['/health', '/health/live', '/health/ready', '/metrics'])

/** Reads the OTEL_* settings: the one place outside server.ts that sees the environment, because it runs first. */
export function telemetrySettingsFrom(env: Record<string, string | undefined>): TelemetrySettings {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1')
  return {
    serviceName: env.OTEL_SERVICE_NAME ?? 'tickets',
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    sampleRatio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
    disabled: env.OTEL_SDK_DISABLED === 'true',
  }
}

const MAX_QUEUE = 4_096

/** An unreachable collector fails every export: say so once a minute, not once a second. */
class QuietDiagLogger extends DiagConsoleLogger {
  private last = 0
  override error = (message: string, ...args: unknown[]) => {
    if (Date.now() - this.last < 60_000) return
    this.last = Date.now()
    process.stderr.write(`${JSON.stringify({ level: 50, component: 'telemetry', msg: message, detail: args.map(String).join(' ').slice(0, 300) })}\n`)
  }
}

/** Counts the spans handed to the exporter, so the processor knows how full its queue is. */
class CountingExporter implements SpanExporter {
  handed = 0
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.handed += spans.length
    this.inner.export(spans, done)
  }
  shutdown() {
    return this.inner.shutdown()
  }
  forceFlush() {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}

/**
 * The SDK's batch processor with a bounded queue: with the collector down, spans beyond the queue
 * are dropped (and counted in otel_spans_dropped) instead of piling up in memory.
 */
class CountingBatchSpanProcessor extends BatchSpanProcessor {
  private queued = 0
  constructor(private readonly counting: CountingExporter, config: ConstructorParameters<typeof BatchSpanProcessor>[1]) {
    super(counting, config)
  }
  override onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) {
      if (this.queued - this.counting.handed >= MAX_QUEUE) telemetryCounters.droppedSpans++
      else this.queued++
    }
    super.onEnd(span)
  }
}

export function startTelemetry(settings: TelemetrySettings): NodeSDK | undefined {
  if (settings.disabled) return undefined
  diag.setLogger(new QuietDiagLogger(), DiagLogLevel.ERROR)
  const spanProcessors: SpanProcessor[] = settings.endpoint
    ? [
        // Bounded queue: with the collector down, spans are dropped instead of piling up in memory.
        new CountingBatchSpanProcessor(new CountingExporter(new OTLPTraceExporter({ url: `${settings.endpoint.replace(/\/$/, '')}/v1/traces`, timeoutMillis: 2_000 })), {
          maxQueueSize: MAX_QUEUE,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 1_000,
        }),
      ]
    : []
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    spanProcessors,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => IGNORED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      new UndiciInstrumentation(),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new PrismaInstrumentation(),
    ],
  })
  sdk.start()
  return sdk
}
