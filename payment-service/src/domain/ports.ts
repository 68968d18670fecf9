import type { Envelope, PaymentRpcReply, PaymentRpcRequest } from '@tickets/contracts/events'

export type ChargeResult = { ok: true; balance: number } | { ok: false; reason: 'BALANCE_LIMIT'; balance: number }

export interface WalletStore {
  balanceOf(userId: string): Promise<number>
  /**
   * Credits the wallet and writes its CHARGE ledger entry in one transaction, refusing to pass
   * maxBalance. The same reference twice credits once (the second call returns the balance).
   */
  chargePoints(input: { userId: string; amount: number; reference: string; maxBalance: number }): Promise<ChargeResult>
}

export type PaymentStatus = 'COMPLETED' | 'REFUNDED'
export type Confirmation = 'PENDING' | 'CONFIRMED' | 'FAILED'

export interface Payment {
  paymentId: string
  reservationId: string
  userId: string
  concertId: string
  amount: number
  status: PaymentStatus
  confirmation: Confirmation
  createdAt: Date
  refundedAt: Date | null
  refundReason: string | null
}

export interface ProcessedMarker {
  consumer: string
  eventId: string
}

export type CompletePaymentResult =
  { ok: true; payment: Payment; created: boolean } | { ok: false; reason: 'INSUFFICIENT_POINTS' } | { ok: false; reason: 'ALREADY_PAID'; standing: Payment | null }

export type RefundResult = { outcome: 'REFUNDED' | 'ALREADY_REFUNDED' | 'DUPLICATE_EVENT' | 'NO_SUCH_PAYMENT'; payment: Payment | null }

export interface PaymentStore {
  findPayment(paymentId: string): Promise<Payment | null>
  /** Both at once (one statement): the payment this request key made, and the reservation's standing one. */
  findEarlierAndStanding(paymentId: string, reservationId: string): Promise<{ earlier: Payment | null; standing: Payment | null }>
  /**
   * One transaction: the payment row (at most one standing per reservation), the conditional
   * debit (never below zero), the PAYMENT ledger entry and the completed event in the outbox.
   */
  completePayment(input: { payment: Omit<Payment, 'status' | 'confirmation' | 'createdAt' | 'refundedAt' | 'refundReason'>; event: Envelope }): Promise<CompletePaymentResult>
  /**
   * One transaction: payment REFUNDED, wallet credited, REFUND ledger entry, the refunded event in
   * the outbox, and (from a consumer) the processed-event row. Idempotent by payment and by event.
   */
  refundPayment(input: { paymentId: string; reason: string; event: (payment: Payment) => Envelope; processed?: ProcessedMarker }): Promise<RefundResult>
  /**
   * Records what booking said, on a completed payment: one statement, and doing it again changes
   * nothing (a redelivered event needs no processed-event row).
   */
  markConfirmation(input: { paymentId: string; confirmation: Confirmation }): Promise<void>
}

export type BookingAnswer = { kind: 'answered'; reply: PaymentRpcReply } | { kind: 'unreachable'; reason: string }

/** Request/reply to booking (RPC in contracts/src/events.ts); every call idempotent by paymentId. */
export interface BookingGateway {
  beginPayment(request: PaymentRpcRequest): Promise<BookingAnswer>
  confirmPayment(request: PaymentRpcRequest): Promise<BookingAnswer>
  abortPayment(request: PaymentRpcRequest): Promise<BookingAnswer>
}

export interface EventNotifier {
  /** New outbox rows are committed: publish them now rather than on the next poll. */
  kick(): void
}

export type PaymentOutcome = 'completed' | 'confirmation_pending' | 'insufficient_points' | 'rejected' | 'already_paid' | 'booking_unavailable' | 'refunded_on_confirm' | 'error'

export interface PaymentMetrics {
  outcome(outcome: PaymentOutcome): void
  refunded(source: 'confirm_refused' | 'confirmation_failed_event'): void
}
