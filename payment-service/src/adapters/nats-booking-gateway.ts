import { PaymentRpcReplySchema, RPC, type PaymentRpcRequest } from '@tickets/contracts/events'
import { requestTraced, type NatsBus } from '@tickets/shared/nats'
import { Value } from 'typebox/value'
import type { BookingAnswer, BookingGateway } from '../domain/ports.js'

/** Request/reply to booking over core NATS; any transport failure or malformed reply is "unreachable". */
export function createNatsBookingGateway(bus: NatsBus, timeoutMs: number): BookingGateway {
  async function call(subject: string, request: PaymentRpcRequest): Promise<BookingAnswer> {
    try {
      const reply = await requestTraced<unknown>(bus, subject, request, { timeoutMs })
      if (!Value.Check(PaymentRpcReplySchema, reply)) return { kind: 'unreachable', reason: `malformed reply on ${subject}` }
      return { kind: 'answered', reply }
    } catch (err) {
      return { kind: 'unreachable', reason: (err as Error).message }
    }
  }
  return {
    beginPayment: (r) => call(RPC.BEGIN_PAYMENT, r),
    confirmPayment: (r) => call(RPC.CONFIRM_PAYMENT, r),
    abortPayment: (r) => call(RPC.ABORT_PAYMENT, r),
  }
}
