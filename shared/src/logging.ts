import { isSpanContextValid, trace } from '@opentelemetry/api'
import type { LoggerOptions } from 'pino'

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-queue-token"]',
  'req.headers["x-operator-secret"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.cardNumber',
  '*.secret',
]

/**
 * Pino options for every process: JSON lines with the service name, the instance (when one is
 * given) and, inside a span, its trace id. Several instances write to one terminal under `npm start`.
 */
export function loggerOptions({ service, level, instance }: { service: string; level: string; instance?: string | undefined }): LoggerOptions {
  return {
    level,
    base: instance ? { service, instance } : { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    mixin() {
      const context = trace.getActiveSpan()?.spanContext()
      if (!context || !isSpanContextValid(context)) return {}
      return { trace_id: context.traceId, span_id: context.spanId }
    },
  }
}
