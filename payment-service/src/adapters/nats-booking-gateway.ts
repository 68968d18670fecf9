import { PaymentRpcReplySchema, RPC, type PaymentRpcRequest } from '@tickets/contracts/events'
import { requestTraced, type NatsBus } from '@tickets/shared/nats'
import { Value } from 'typebox/value'
import type { BookingAnswer, BookingGateway } from '../domain/ports.js'

const isTimeout = (err: unknown) => err instanceof Error && err.name === 'TimeoutError'

/**
 * Request/reply to booking over core NATS; any transport failure or malformed reply is "unreachable".
 * A request unanswered within `attemptMs` is sent once more, within what is left of `timeoutMs`: the
 * booking instance that took it may have died with it, and NATS gives the next one to a live
 * instance. Every call is idempotent by paymentId, so a first attempt that was only slow changes
 * nothing when it completes. A booking instance killed under load kept a payment waiting the whole
 * timeout, 3 s (drill 3.1.1).
 */
export function createNatsBookingGateway(bus: NatsBus, opts: { timeoutMs: number; attemptMs: number }): BookingGateway {
  async function ask(subject: string, request: PaymentRpcRequest): Promise<unknown> {
    const startedAt = performance.now()
    try {
      return await requestTraced<unknown>(bus, subject, request, { timeoutMs: Math.min(opts.attemptMs, opts.timeoutMs) })
    } catch (err) {
      const leftMs = opts.timeoutMs - (performance.now() - startedAt)
      if (!isTimeout(err) || leftMs < 1) throw err
      return requestTraced<unknown>(bus, subject, request, { timeoutMs: leftMs })
    }
  }
  async function call(subject: string, request: PaymentRpcRequest): Promise<BookingAnswer> {
    try {
      const reply = await ask(subject, request)
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
