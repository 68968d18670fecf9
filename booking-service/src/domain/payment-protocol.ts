import type { ErrorCode } from '@tickets/contracts/errors'
import type { ConcertInventoryReply, PaymentCompleted, PaymentRefunded, PaymentRpcReply, PaymentRpcRequest } from '@tickets/contracts/events'
import type { BookingMetrics, Clock, EventRelay, PaymentOutcome, PaymentRefusal, SeatStore } from './ports.js'
import { isConfirmedBy } from './reservation-rules.js'

export interface PaymentProtocolDeps {
  seats: SeatStore
  clock: Clock
  events: EventRelay
  metrics: BookingMetrics
  payingTtlSeconds: number
}

const REFUSAL_CODES: Record<PaymentRefusal, ErrorCode> = {
  NOT_FOUND: 'BOOKING_RESERVATION_NOT_FOUND',
  WRONG_CONCERT: 'QUEUE_TOKEN_FORBIDDEN',
  HOLD_EXPIRED: 'BOOKING_HOLD_EXPIRED',
  NOT_HELD: 'BOOKING_RESERVATION_NOT_HELD',
  ALREADY_PAID: 'PAYMENT_ALREADY_PAID',
}

const REFUSAL_DETAILS: Record<PaymentRefusal, string> = {
  NOT_FOUND: 'No such reservation for this user',
  WRONG_CONCERT: 'The reservation belongs to another concert than the queue token',
  HOLD_EXPIRED: 'The hold has expired and the seat went back',
  NOT_HELD: 'The reservation is not held (cancelled, or another payment is under way)',
  ALREADY_PAID: 'The reservation was paid by another payment',
}

function reply(outcome: PaymentOutcome): PaymentRpcReply {
  if (!outcome.ok) return { ok: false, code: REFUSAL_CODES[outcome.reason], detail: REFUSAL_DETAILS[outcome.reason] }
  const r = outcome.reservation
  return {
    ok: true,
    reservation: {
      reservationId: r.reservationId,
      userId: r.userId,
      concertId: r.concertId,
      scheduleId: r.scheduleId,
      seatNumber: r.seatNumber,
      price: r.price,
      status: r.status,
      // While PAYING, the deadline that matters is the payment's, not the original hold's.
      expiresAt: (r.status === 'PAYING' && r.payingUntil ? r.payingUntil : r.expiresAt).toISOString(),
    },
  }
}

export const COMPLETED_CONSUMER = 'booking-payment-completed'
export const REFUNDED_CONSUMER = 'booking-payment-refunded'

/**
 * Booking's side of the payment hand-off (see RPC in @tickets/contracts/events). Every step is
 * idempotent by paymentId, and a reservation of another user is "not found".
 */
export function createPaymentProtocol({ seats, clock, events, metrics, payingTtlSeconds }: PaymentProtocolDeps) {
  return {
    async begin(req: PaymentRpcRequest): Promise<PaymentRpcReply> {
      const now = clock.now()
      return reply(await seats.beginPayment({ ...req, now, payingUntil: new Date(now.getTime() + payingTtlSeconds * 1000) }))
    },

    async confirm(req: PaymentRpcRequest): Promise<PaymentRpcReply> {
      const outcome = await seats.confirmPayment({ ...req, now: clock.now() })
      if (outcome.ok && outcome.changed) {
        metrics.confirmed()
        events.kick()
      }
      if (!outcome.ok && outcome.reason === 'DUPLICATE') throw new Error('unreachable: no processed marker on a request')
      return reply(outcome)
    },

    async abort(req: PaymentRpcRequest): Promise<PaymentRpcReply> {
      return reply(await seats.abortPayment({ ...req, now: clock.now() }))
    },

    concertStatus: (concertId: string) => seats.concertStatus(concertId),

    /** The waiting room's resync: what is left to sell, as of now on booking's clock. */
    async concertInventory(concertId: string): Promise<ConcertInventoryReply> {
      const now = clock.now()
      const inventory = await seats.concertInventory(concertId, now)
      if (!inventory) return { exists: false }
      return {
        exists: true,
        asOf: now.getTime(),
        total: inventory.total,
        sold: inventory.sold,
        opensAt: inventory.opensAt?.getTime() ?? null,
        holds: inventory.holds.map((h) => ({ reservationId: h.reservationId, userId: h.userId, until: h.until.getTime() })),
      }
    },

    /** payment.payment.completed: confirm if CONFIRM did not get through; if the seat is gone, say so (payment refunds). */
    async onPaymentCompleted(eventId: string, data: PaymentCompleted) {
      // Usually CONFIRM got there first: a reservation this payment already confirmed needs no
      // transaction, and no wait for its seat's lock.
      const seen = await seats.findReservation(data.reservationId)
      if (seen && isConfirmedBy(seen, data)) return 'ALREADY_CONFIRMED'
      const outcome = await seats.confirmPayment({
        reservationId: data.reservationId,
        userId: data.userId,
        paymentId: data.paymentId,
        now: clock.now(),
        processed: { consumer: COMPLETED_CONSUMER, eventId },
        publishFailure: true,
      })
      if (outcome.ok && outcome.changed) metrics.confirmed()
      events.kick()
      return outcome.ok ? (outcome.changed ? 'CONFIRMED' : 'ALREADY_CONFIRMED') : outcome.reason === 'DUPLICATE' ? 'DUPLICATE' : 'CONFIRMATION_FAILED'
    },

    /** payment.payment.refunded: a seat still sold or paying for that payment goes back. */
    async onPaymentRefunded(eventId: string, data: PaymentRefunded) {
      const result = await seats.refund({ reservationId: data.reservationId, paymentId: data.paymentId, now: clock.now(), processed: { consumer: REFUNDED_CONSUMER, eventId } })
      if (result === 'RELEASED') events.kick()
      return result
    },
  }
}
export type PaymentProtocol = ReturnType<typeof createPaymentProtocol>
