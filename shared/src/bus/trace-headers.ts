import { context, propagation, trace, SpanStatusCode, type Context, type Span, type SpanOptions } from '@opentelemetry/api'
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node'

const headerSetter = { set: (h: MsgHdrs, k: string, v: string) => h.set(k, v) }
const headerGetter = {
  keys: (h: MsgHdrs | undefined) => (h ? h.keys() : []),
  get: (h: MsgHdrs | undefined, k: string) => (h?.has(k) ? h.get(k) : undefined),
}

export function traceHeaders(ctx: Context = context.active()): MsgHdrs {
  const h = natsHeaders()
  propagation.inject(ctx, h, headerSetter)
  return h
}

export function contextFromHeaders(h: MsgHdrs | undefined): Context {
  return propagation.extract(context.active(), h, headerGetter)
}

export const tracer = trace.getTracer('@tickets/shared/nats')

/** Runs `work` in an active span that records a failure and always ends. */
export function inClientSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span)
    } catch (err) {
      span.recordException(err as Error)
      span.setStatus({ code: SpanStatusCode.ERROR })
      throw err
    } finally {
      span.end()
    }
  })
}
