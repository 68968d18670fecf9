import { diag, DiagConsoleLogger, DiagLogLevel, TraceFlags, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { ExportResultCode } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { BatchSpanProcessor, ParentBasedSampler, SamplingDecision, TraceIdRatioBasedSampler, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base'
import { PrismaInstrumentation } from '@prisma/instrumentation'
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { telemetryCounters } from './metrics.js'
import { OtlpJsonLinesExporter } from './telemetry-file.js'
import { createGearbox, type Gearbox } from './telemetry-gearbox.js'
import { setTracingOn, tracingOn } from './tracing-gear.js'

export interface TelemetrySettings {
  serviceName: string
  /** OTLP/HTTP base URL (e.g. http://collector:4318). None: no tracing at all, correlation ids only. */
  endpoint?: string | undefined
  /** A file to append finished spans to as OTLP JSON lines (TRACES_FILE); none: no file. */
  tracesFile?: string | undefined
  sampleRatio: number
  disabled: boolean
  /** While the collector fails, how often to try it again. */
  probeIntervalMs: number
}

const IGNORED_PATHS = new Set(['/health', '/health/ready', '/health/dependencies', '/metrics'])
// The gateway's operator console refreshes every 2 s: its own requests would fill the traces it shows.
const IGNORED_PREFIXES = ['/console/']
const ignored = (url: string | undefined) => {
  const path = (url ?? '').split('?')[0] ?? ''
  return IGNORED_PATHS.has(path) || IGNORED_PREFIXES.some((prefix) => path.startsWith(prefix))
}

/** Reads the OTEL_* settings: the one place outside server.ts that sees the environment, because it runs first. */
export function telemetrySettingsFrom(env: Record<string, string | undefined>): TelemetrySettings {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1')
  return {
    serviceName: env.OTEL_SERVICE_NAME ?? 'tickets',
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    tracesFile: env.TRACES_FILE || undefined,
    sampleRatio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
    disabled: env.OTEL_SDK_DISABLED === 'true',
    probeIntervalMs: Number(env.TELEMETRY_PROBE_INTERVAL_MS) > 0 ? Number(env.TELEMETRY_PROBE_INTERVAL_MS) : 5_000,
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

function telemetryLog(level: 'info' | 'warn', msg: string) {
  process.stderr.write(`${JSON.stringify({ level: level === 'warn' ? 40 : 30, time: new Date().toISOString(), component: 'telemetry', msg })}\n`)
}

/**
 * Counts the spans handed to the exporter, so the processor knows how full its queue is, and tells
 * the gearbox how each export went.
 */
class CountingExporter implements SpanExporter {
  handed = 0
  constructor(
    private readonly inner: SpanExporter,
    private readonly gearbox: Gearbox,
  ) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.handed += spans.length
    if (!tracingOn()) {
      // Paused: what was queued before the pause is dropped at once, not serialised and retried.
      telemetryCounters.droppedSpans += spans.length
      return done({ code: ExportResultCode.FAILED })
    }
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.gearbox.exportSucceeded()
      else this.gearbox.exportFailed()
      done(result)
    })
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
  constructor(
    private readonly counting: CountingExporter,
    config: ConstructorParameters<typeof BatchSpanProcessor>[1],
  ) {
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

/** The configured sampler while tracing is on; nothing recorded while it is paused. */
class GearedSampler implements Sampler {
  constructor(private readonly inner: Sampler) {}
  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    return tracingOn() ? this.inner.shouldSample(context, traceId, name, kind, attributes, links) : { decision: SamplingDecision.NOT_RECORD }
  }
  toString() {
    return `Geared{${this.inner.toString()}}`
  }
}

export interface Telemetry {
  sdk: NodeSDK
  /** Only with a collector: a traces file alone keeps tracing on. */
  gearbox: Gearbox | undefined
  shutdown(): Promise<void>
}

/**
 * Starts tracing when a collector or a traces file is configured. Without either nothing is patched
 * at all; with a collector, tracing pauses while the collector fails (see telemetry-gearbox.ts), so
 * an outage of the observability stack never slows ticket sales. A traces file alone keeps tracing on.
 */
export function startTelemetry(settings: TelemetrySettings): Telemetry | undefined {
  if (settings.disabled || (!settings.endpoint && !settings.tracesFile)) return undefined
  diag.setLogger(new QuietDiagLogger(), DiagLogLevel.ERROR)
  const contextManager = new AsyncLocalStorageContextManager()
  const instrumentations = [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => ignored(req.url) }),
    new UndiciInstrumentation(),
    new IORedisInstrumentation({ requireParentSpan: true }),
    new PrismaInstrumentation(),
  ]
  const batching = { maxQueueSize: MAX_QUEUE, maxExportBatchSize: 512, scheduledDelayMillis: 1_000 }
  const spanProcessors: BatchSpanProcessor[] = []
  let gearbox: Gearbox | undefined
  if (settings.endpoint) {
    const tracesUrl = `${settings.endpoint.replace(/\/$/, '')}/v1/traces`
    gearbox = createGearbox({ tracesUrl, contextManager, instrumentations, probeIntervalMs: settings.probeIntervalMs, log: telemetryLog })
    // Bounded queue: with the collector down, spans are dropped instead of piling up in memory.
    spanProcessors.push(new CountingBatchSpanProcessor(new CountingExporter(new OTLPTraceExporter({ url: tracesUrl, timeoutMillis: 2_000 }), gearbox), batching))
  }
  // Batched like the collector's: one append per batch, never a write per span.
  if (settings.tracesFile) spanProcessors.push(new BatchSpanProcessor(new OtlpJsonLinesExporter(settings.tracesFile), batching))
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    contextManager,
    // Traces only: metrics are prom-client's (/metrics), logs are pino's. Left unset, the SDK would
    // read OTEL_EXPORTER_OTLP_ENDPOINT and also push OTel metrics and logs there.
    metricReaders: [],
    logRecordProcessors: [],
    spanProcessors,
    sampler: new GearedSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) })),
    instrumentations,
  })
  sdk.start()
  if (gearbox) gearbox.start()
  else setTracingOn(true)
  return {
    sdk,
    gearbox,
    async shutdown() {
      // Flushes first: the exporter drops everything once tracing is off.
      await sdk.shutdown()
      gearbox?.stop()
      setTracingOn(false)
    },
  }
}
