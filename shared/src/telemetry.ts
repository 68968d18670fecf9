import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { FastifyOtelInstrumentation } from '@fastify/otel'

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

export function startTelemetry(settings: TelemetrySettings): NodeSDK | undefined {
  if (settings.disabled) return undefined
  diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.ERROR)
  const spanProcessors: SpanProcessor[] = settings.endpoint
    ? [
        // Bounded queue: with the collector down, spans are dropped instead of piling up in memory.
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${settings.endpoint.replace(/\/$/, '')}/v1/traces`, timeoutMillis: 2_000 }), {
          maxQueueSize: 4_096,
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
      new FastifyOtelInstrumentation({ registerOnInitialization: true, ignorePaths: (opts) => IGNORED_PATHS.has(opts.url) }),
    ],
  })
  sdk.start()
  return sdk
}
