import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { PaymentRpcRequestSchema, RPC, type PaymentRpcReply, type PaymentRpcRequest } from '@tickets/shared/events'
import { contextFromHeaders, type NatsBus } from '@tickets/shared/nats'
import type { Msg, Subscription } from '@nats-io/transport-node'
import type { FastifyBaseLogger } from 'fastify'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import type { PaymentProtocol } from '../domain/payment-protocol.js'

/** Every booking instance joins this queue group: each request is answered by exactly one of them. */
export const RPC_QUEUE_GROUP = 'booking'

const ConcertStatusRequestSchema = Type.Object({ concertId: Type.String({ minLength: 1, maxLength: 64 }) })
const tracer = trace.getTracer('@tickets/booking-service/rpc')

function parse(msg: Msg): unknown {
  try {
    return msg.json()
  } catch {
    return undefined
  }
}

/**
 * Request/reply responders for payment (begin, confirm, abort) and the waiting room (concert status).
 * A bad request gets a refusal, never silence; a failure on our side (database down) answers
 * COMMON_DEPENDENCY_DOWN so that payment falls back rather than waits out its timeout.
 */
export function startPaymentResponders(bus: NatsBus, protocol: PaymentProtocol, log: FastifyBaseLogger) {
  const paymentSteps: Record<string, (req: PaymentRpcRequest) => Promise<PaymentRpcReply>> = {
    [RPC.BEGIN_PAYMENT]: protocol.begin,
    [RPC.CONFIRM_PAYMENT]: protocol.confirm,
    [RPC.ABORT_PAYMENT]: protocol.abort,
  }
  const subs: Subscription[] = []

  function serve(subject: string, handle: (msg: Msg) => Promise<unknown>) {
    const sub = bus.nc.subscribe(bus.names.subject(subject), {
      queue: RPC_QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) return log.warn({ err, subject }, 'rpc subscription error')
        void tracer.startActiveSpan(`${subject} process`, { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject } }, contextFromHeaders(msg.headers), async (span) => {
          try {
            const answer = await handle(msg)
            if (answer !== undefined) msg.respond(JSON.stringify(answer))
          } catch (err) {
            span.recordException(err as Error)
            span.setStatus({ code: SpanStatusCode.ERROR })
            log.error({ err, subject }, 'rpc request failed')
            if (subject !== RPC.CONCERT_STATUS) {
              msg.respond(JSON.stringify({ ok: false, code: 'COMMON_DEPENDENCY_DOWN', detail: 'Booking could not complete the step; retry' } satisfies PaymentRpcReply))
            }
          } finally {
            span.end()
          }
        })
      },
    })
    subs.push(sub)
  }

  for (const [subject, step] of Object.entries(paymentSteps)) {
    serve(subject, async (msg) => {
      const req = parse(msg)
      if (!Value.Check(PaymentRpcRequestSchema, req)) {
        return { ok: false, code: 'COMMON_VALIDATION', detail: 'Request does not match PaymentRpcRequest' } satisfies PaymentRpcReply
      }
      return step(req)
    })
  }
  // No answer on failure here: the reply schema has no error form, and the waiting room treats a timeout as unknown.
  serve(RPC.CONCERT_STATUS, async (msg) => {
    const req = parse(msg)
    if (!Value.Check(ConcertStatusRequestSchema, req)) return { exists: false, soldOut: false }
    return protocol.concertStatus(req.concertId)
  })

  return {
    async stop() {
      await Promise.all(subs.map((s) => s.drain().catch(() => undefined)))
    },
  }
}
