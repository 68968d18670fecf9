/**
 * Whether this process is making spans right now. Tracing runs only while a collector takes the
 * spans: with no OTLP endpoint configured, or while the collector fails, the process runs untraced
 * at full speed and keeps correlation ids only (see traceIdOf in http.ts). On Node 20 the async
 * context alone costs a cheap route about a tenth of its throughput, so "idle" is not good enough.
 * The telemetry bootstrap moves the gear; everything else only reads it.
 */
let tracing = false

export function tracingOn(): boolean {
  return tracing
}

export function setTracingOn(on: boolean): void {
  tracing = on
}
