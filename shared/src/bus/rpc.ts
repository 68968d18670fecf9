import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { FastifyBaseLogger } from 'fastify'
import type { BackgroundWork } from '../background.js'
import { forCallerWithin } from '../connection-line.js'
import { databaseTrouble } from '../db-errors.js'
import type { NatsBus } from './connection.js'
import { contextFromHeaders, inClientSpan, traceHeaders, tracer } from './trace-headers.js'

/** How long the caller of a request still listens, in ms: the responder waits for no connection past it. */
const ANSWER_WITHIN_HEADER = 'Answer-Within-Ms'

/**
 * Core-NATS request with the trace context in the headers: the responder's span becomes a child of
 * this CLIENT span. Throws on timeout or when nobody answers (`NoRespondersError`).
 */
export async function requestTraced<T>(bus: NatsBus, subject: string, data: unknown, opts: { timeoutMs: number }): Promise<T> {
  const wire = bus.names.subject(subject)
  return inClientSpan(`${subject} request`, { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': wire } }, async () => {
    const headers = traceHeaders()
    headers.set(ANSWER_WITHIN_HEADER, String(Math.max(0, Math.round(opts.timeoutMs))))
    const reply = await bus.nc.request(wire, JSON.stringify(data), { timeout: opts.timeoutMs, headers })
    return reply.json<T>()
  })
}

export interface ServeRpcOptions {
  /** The queue group (one member answers each request); by default one derived from the subject. */
  queue?: string
  /**
   * The reply when the handler throws (for example an error answer the caller understands), or
   * undefined for no reply at all: the caller then times out and treats the outcome as unknown.
   */
  onError?: (err: unknown) => unknown
  /**
   * The request continues work its caller has under way (a payment between its steps): its
   * database connections are lent before new work's (connection-line).
   */
  underWay?: boolean
}

/**
 * Answers core-NATS requests in a queue group (one instance answers each request), each inside a
 * SERVER span that continues the caller's trace. The handler's result is the JSON reply.
 */
export function serveRpc(bus: NatsBus, subject: string, handler: (data: unknown) => Promise<unknown>, log: FastifyBaseLogger, opts: ServeRpcOptions = {}): BackgroundWork {
  const wire = bus.names.subject(subject)
  const sub = bus.nc.subscribe(wire, { queue: opts.queue ?? bus.names.durable(subject.replace(/\./g, '_')) })
  // Requests being answered: stop() waits for them, so that none loses its database or its reply
  // to a shutdown (the caller would wait out its whole RPC timeout).
  const inFlight = new Set<Promise<unknown>>()
  const done = (async () => {
    for await (const m of sub) {
      const parent = contextFromHeaders(m.headers)
      const answering = tracer.startActiveSpan(
        `${subject} process`,
        { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': wire } },
        parent,
        async (span) => {
          try {
            let data: unknown
            try {
              data = m.json()
            } catch {
              data = undefined
            }
            const within = Number(m.headers?.get(ANSWER_WITHIN_HEADER))
            const answer = await forCallerWithin(within > 0 ? within : Infinity, () => handler(data), { underWay: opts.underWay })
            m.respond(JSON.stringify(answer))
          } catch (err) {
            span.recordException(err as Error)
            span.setStatus({ code: SpanStatusCode.ERROR })
            // A database that cannot serve now is overload or an outage, answered as such (onError):
            // not a bug, so not an error line (as the HTTP side logs only COMMON_INTERNAL at error).
            if (databaseTrouble(err)) log.warn({ err, subject }, 'rpc handler: the database could not serve it')
            else log.error({ err, subject }, 'rpc handler failed')
            const answer = opts.onError?.(err)
            // No reply: the caller times out and treats the outcome as unknown, never as success.
            if (answer !== undefined) m.respond(JSON.stringify(answer))
          } finally {
            span.end()
          }
        },
      )
      inFlight.add(answering)
      void answering.finally(() => inFlight.delete(answering))
    }
  })()
  return {
    async stop() {
      await sub.drain().catch(() => undefined)
      await done.catch(() => undefined)
      await Promise.allSettled([...inFlight])
    },
  }
}
