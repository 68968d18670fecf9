import { PaymentRpcRequestSchema, RPC, type PaymentRpcReply, type PaymentRpcRequest } from '@tickets/contracts/events'
import type { BackgroundWork } from '@tickets/shared/background'
import { serveRpc, type NatsBus } from '@tickets/shared/nats'
import type { FastifyBaseLogger } from 'fastify'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import type { PaymentProtocol } from '../domain/payment-protocol.js'

/** Every booking instance joins this queue group: each request is answered by exactly one of them. */
export const RPC_QUEUE_GROUP = 'booking'

const ConcertStatusRequestSchema = Type.Object({ concertId: Type.String({ minLength: 1, maxLength: 64 }) })

/**
 * Request/reply responders for payment (begin, confirm, abort) and the waiting room (concert status),
 * each request inside a SERVER span that continues the caller's trace (shared `serveRpc`).
 * A bad request gets a refusal, never silence; a failure on our side (database down) answers
 * COMMON_DEPENDENCY_DOWN so that payment falls back rather than waits out its timeout.
 */
export function startPaymentResponders(bus: NatsBus, protocol: PaymentProtocol, log: FastifyBaseLogger): BackgroundWork {
  const paymentSteps: Record<string, (req: PaymentRpcRequest) => Promise<PaymentRpcReply>> = {
    [RPC.BEGIN_PAYMENT]: protocol.begin,
    [RPC.CONFIRM_PAYMENT]: protocol.confirm,
    [RPC.ABORT_PAYMENT]: protocol.abort,
  }
  const dependencyDown = (): PaymentRpcReply => ({ ok: false, code: 'COMMON_DEPENDENCY_DOWN', detail: 'Booking could not complete the step; retry' })
  const servers: BackgroundWork[] = []

  for (const [subject, step] of Object.entries(paymentSteps)) {
    servers.push(
      serveRpc(
        bus,
        subject,
        async (req) => {
          if (!Value.Check(PaymentRpcRequestSchema, req)) {
            return { ok: false, code: 'COMMON_VALIDATION', detail: 'Request does not match PaymentRpcRequest' } satisfies PaymentRpcReply
          }
          return step(req)
        },
        log,
        // A payment between its steps: booking's part goes before new reads and holds (connection-line).
        { queue: RPC_QUEUE_GROUP, onError: dependencyDown, underWay: true },
      ),
    )
  }
  // No answer on failure here: the reply schema has no error form, and the waiting room treats a timeout as unknown.
  servers.push(
    serveRpc(
      bus,
      RPC.CONCERT_STATUS,
      async (req) => {
        if (!Value.Check(ConcertStatusRequestSchema, req)) return { exists: false, soldOut: false }
        return protocol.concertStatus(req.concertId)
      },
      log,
      { queue: RPC_QUEUE_GROUP },
    ),
    serveRpc(
      bus,
      RPC.CONCERT_INVENTORY,
      async (req) => {
        if (!Value.Check(ConcertStatusRequestSchema, req)) return { exists: false }
        return protocol.concertInventory(req.concertId)
      },
      log,
      { queue: RPC_QUEUE_GROUP },
    ),
  )

  return {
    async stop() {
      await Promise.all(servers.map((s) => s.stop()))
    },
  }
}
