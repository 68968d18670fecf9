import { AppError, ERROR_CODES, type ErrorCode } from '@tickets/contracts/errors'
import { anEnvelope, SUBJECTS, type PaymentCompleted, type PaymentRefunded, type PaymentRpcRequest } from '@tickets/contracts/events'
import { derivedId } from './ids.js'
import type { BookingAnswer, BookingGateway, EventNotifier, Payment, PaymentMetrics, PaymentStore, ProcessedMarker } from './ports.js'

export interface PaymentDeps {
  payments: PaymentStore
  booking: BookingGateway
  events: EventNotifier
  metrics: PaymentMetrics
  log: { warn(obj: object, msg: string): void }
}

export interface PayInput {
  userId: string
  reservationId: string
  /** The concert of the caller's ACTIVE queue token, when the gateway passed one. */
  concertId?: string | undefined
  /** Names this use of an Idempotency-Key: a re-run after a crash is the same payment. */
  requestKey: string
  /**
   * This use of the key never ran before, so it made no payment yet: booking is asked at once, and
   * the reservation's standing payment is looked up only when booking refuses (one round trip less
   * on the way of every payment). Unknown, a payment made by an earlier run is looked for first.
   */
  firstRun?: boolean
}

export interface PaymentView {
  paymentId: string
  reservationId: string
  amount: number
  status: Payment['status']
  confirmation: Payment['confirmation']
  createdAt: string
  refundedAt?: string
}

export function viewOf(p: Payment): PaymentView {
  return {
    paymentId: p.paymentId,
    reservationId: p.reservationId,
    amount: p.amount,
    status: p.status,
    confirmation: p.confirmation,
    createdAt: p.createdAt.toISOString(),
    ...(p.refundedAt ? { refundedAt: p.refundedAt.toISOString() } : {}),
  }
}

/** Booking's refusals that mean it will never confirm this payment: the charge must be refunded. */
function isFinalRefusal(code: string): boolean {
  return !code.startsWith('COMMON_')
}

/** Booking's failure codes are shared registry codes; an unknown one still becomes a 409, never a 500. */
function refusal(code: string, detail: string): AppError {
  if (code in ERROR_CODES && ERROR_CODES[code as ErrorCode].status < 500) return new AppError(code as ErrorCode, detail)
  if (code in ERROR_CODES) return new AppError('PAYMENT_BOOKING_UNAVAILABLE', detail)
  return new AppError('PAYMENT_RESERVATION_NOT_PAYABLE', detail)
}

export function createPaymentService({ payments, booking, events, metrics, log }: PaymentDeps) {
  function refundedEvent(reason: string) {
    return (p: Payment) =>
      anEnvelope<PaymentRefunded>(SUBJECTS.PAYMENT_REFUNDED, { paymentId: p.paymentId, reservationId: p.reservationId, userId: p.userId, amount: p.amount, reason })
  }

  // ABORT is a courtesy: booking's deadline on the PAYING state returns the hold anyway.
  async function abort(request: PaymentRpcRequest, why: string) {
    const answer = await booking.abortPayment(request).catch((err: Error): BookingAnswer => ({ kind: 'unreachable', reason: err.message }))
    if (answer.kind === 'unreachable' || !answer.reply.ok) log.warn({ paymentId: request.paymentId, why, answer }, 'abort payment not acknowledged')
  }

  async function confirm(payment: Payment, request: PaymentRpcRequest): Promise<PaymentView & { confirmation: Payment['confirmation'] }> {
    const answer = await booking.confirmPayment(request)
    if (answer.kind === 'answered' && answer.reply.ok) {
      await payments.markConfirmation({ paymentId: payment.paymentId, confirmation: 'CONFIRMED' })
      metrics.outcome('completed')
      return viewOf({ ...payment, confirmation: 'CONFIRMED' })
    }
    if (answer.kind === 'answered' && !answer.reply.ok && isFinalRefusal(answer.reply.code)) {
      const { code, detail } = answer.reply
      const result = await payments.refundPayment({ paymentId: payment.paymentId, reason: `confirmation refused: ${code}`, event: refundedEvent(`confirmation refused: ${code}`) })
      if (result.outcome === 'REFUNDED') metrics.refunded('confirm_refused')
      events.kick()
      metrics.outcome('refunded_on_confirm')
      throw refusal(code, `${detail}; the payment was refunded`)
    }
    // Booking did not answer (or failed for now): it confirms from payment.payment.completed, or
    // answers with confirmation_failed, which refunds. The charge stands meanwhile.
    log.warn({ paymentId: payment.paymentId, answer }, 'confirmation pending')
    metrics.outcome('confirmation_pending')
    return viewOf(payment)
  }

  return {
    async pay(input: PayInput): Promise<PaymentView> {
      const { userId, reservationId, concertId } = input
      const paymentId = derivedId('payment', userId, input.requestKey)
      const request: PaymentRpcRequest = { reservationId, userId, paymentId, ...(concertId ? { concertId } : {}) }

      /** Another payment of this reservation stands: it is paid (or, for another user, not there). */
      const refuseIfPaid = (standing: Payment | null) => {
        if (!standing) return
        metrics.outcome('already_paid')
        if (standing.userId !== userId) throw new AppError('BOOKING_RESERVATION_NOT_FOUND', 'No such reservation')
        throw new AppError('PAYMENT_ALREADY_PAID', `Reservation ${reservationId} is already paid (${standing.paymentId})`, { extra: { paymentId: standing.paymentId } })
      }

      if (!input.firstRun) {
        // A re-run of a request that already charged (its first run died before answering).
        const { earlier, standing } = await payments.findEarlierAndStanding(paymentId, reservationId)
        if (earlier) {
          if (earlier.userId !== userId || earlier.reservationId !== reservationId)
            throw new AppError('PAYMENT_RESERVATION_NOT_PAYABLE', 'This request key already paid another reservation')
          if (earlier.status === 'COMPLETED' && earlier.confirmation === 'PENDING') return confirm(earlier, request)
          return viewOf(earlier)
        }
        refuseIfPaid(standing)
      }

      const begun = await booking.beginPayment(request)
      if (begun.kind === 'unreachable') {
        metrics.outcome('booking_unavailable')
        void abort(request, 'begin unanswered')
        throw new AppError('PAYMENT_BOOKING_UNAVAILABLE', 'The booking service did not answer; nothing was charged')
      }
      if (!begun.reply.ok) {
        // Paid by another payment, booking says "already paid", "not held" (its confirmation is still
        // on the way) or "expired" (it is being refunded): the standing payment is the answer.
        // (A database too busy to tell leaves booking's own refusal as the answer.)
        if (input.firstRun) refuseIfPaid((await payments.findEarlierAndStanding(paymentId, reservationId).catch(() => ({ standing: null }))).standing)
        metrics.outcome('rejected')
        throw refusal(begun.reply.code, begun.reply.detail)
      }
      const reservation = begun.reply.reservation
      if (reservation.userId !== userId || reservation.reservationId !== reservationId) {
        metrics.outcome('rejected')
        await abort(request, 'reservation of another user')
        throw new AppError('BOOKING_RESERVATION_NOT_FOUND', 'No such reservation')
      }
      if (concertId && reservation.concertId !== concertId) {
        metrics.outcome('rejected')
        await abort(request, 'reservation of another concert')
        throw new AppError('QUEUE_TOKEN_FORBIDDEN', 'The reservation is for another concert than the queue token')
      }

      const completed = anEnvelope<PaymentCompleted>(SUBJECTS.PAYMENT_COMPLETED, {
        paymentId,
        reservationId,
        userId,
        concertId: reservation.concertId,
        amount: reservation.price,
      })
      let result
      try {
        result = await payments.completePayment({
          payment: { paymentId, reservationId, userId, concertId: reservation.concertId, amount: reservation.price },
          event: completed,
        })
      } catch (err) {
        metrics.outcome('error')
        // The database could not take the charge: answered at once, not after booking's answer (a
        // restarting booking made it wait the whole RPC timeout; drill 3.2.3).
        void abort(request, 'payment transaction failed')
        throw err
      }
      if (!result.ok) {
        await abort(request, result.reason)
        if (result.reason === 'INSUFFICIENT_POINTS') {
          metrics.outcome('insufficient_points')
          throw new AppError('PAYMENT_INSUFFICIENT_POINTS', `The reservation costs ${reservation.price} points; nothing was charged`, { extra: { price: reservation.price } })
        }
        metrics.outcome('already_paid')
        throw new AppError('PAYMENT_ALREADY_PAID', `Reservation ${reservationId} is already paid`)
      }
      events.kick()
      return confirm(result.payment, request)
    },

    async get(userId: string, paymentId: string): Promise<PaymentView> {
      const payment = await payments.findPayment(paymentId)
      // Another user's payment is indistinguishable from none.
      if (!payment || payment.userId !== userId) throw new AppError('PAYMENT_NOT_FOUND', 'No such payment')
      return viewOf(payment)
    },

    /** booking.reservation.confirmation_failed: booking will never confirm, so the charge goes back. */
    async refundUnconfirmed(input: { paymentId: string; reason: string; processed: ProcessedMarker }) {
      const result = await payments.refundPayment({ paymentId: input.paymentId, reason: input.reason, event: refundedEvent(input.reason), processed: input.processed })
      if (result.outcome === 'REFUNDED') {
        metrics.refunded('confirmation_failed_event')
        events.kick()
      }
      return result
    },

    /** booking.reservation.confirmed: the confirmation that a PENDING payment waited for. */
    markConfirmed(paymentId: string) {
      return payments.markConfirmation({ paymentId, confirmation: 'CONFIRMED' })
    },
  }
}
export type PaymentService = ReturnType<typeof createPaymentService>
