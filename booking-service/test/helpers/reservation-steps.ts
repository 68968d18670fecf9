import type { Reservation, ReservationStatus, ReservedSeat } from '../../src/domain/ports.js'
import * as rules from '../../src/domain/reservation-rules.js'
import type { Change, LockedSeat, Refusal, Unchanged } from '../../src/domain/reservation-rules.js'

export const NOW = new Date('2026-06-01T10:00:00Z')
export const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000)
export const PAYING_UNTIL = minutes(10)

/** The seat every reservation of these tests is for. */
export const A_SEAT: ReservedSeat = { reservationId: 'r-1', userId: 'fan', concertId: 'c-1', scheduleId: 's-1', seatNumber: 7, price: 100 }

export function aReservation(overrides: Partial<Reservation> = {}): Reservation {
  return {
    ...A_SEAT,
    status: 'HELD',
    expiresAt: minutes(5),
    paymentId: null,
    payingUntil: null,
    createdAt: minutes(-1),
    confirmedAt: null,
    ...overrides,
  }
}

/** Each status as the seat store leaves it: its payment, and its seat row. */
export const AS_STORED: Record<ReservationStatus, { reservation: Partial<Reservation>; seat: LockedSeat }> = {
  HELD: { reservation: {}, seat: { status: 'HELD', reservationId: 'r-1' } },
  PAYING: { reservation: { paymentId: 'pay-1', payingUntil: PAYING_UNTIL }, seat: { status: 'PAYING', reservationId: 'r-1' } },
  CONFIRMED: { reservation: { paymentId: 'pay-1', confirmedAt: minutes(-1) }, seat: { status: 'SOLD', reservationId: 'r-1' } },
  CANCELLED: { reservation: {}, seat: { status: 'AVAILABLE', reservationId: null } },
  // Swept while its payment was under way.
  EXPIRED: { reservation: { paymentId: 'pay-1', payingUntil: minutes(-1) }, seat: { status: 'AVAILABLE', reservationId: null } },
  REFUNDED: { reservation: { paymentId: 'pay-1' }, seat: { status: 'AVAILABLE', reservationId: null } },
}
export const STATUSES = Object.keys(AS_STORED) as ReservationStatus[]
export const stored = (status: ReservationStatus) => ({ r: aReservation({ status, ...AS_STORED[status].reservation }), seat: AS_STORED[status].seat })

export type Outcome = Refusal<string> | Unchanged | Change
/** A decision in one word: `refuse NOT_HELD`, `unchanged`, `PAYING, seat PAYING`. */
export function summary(d: Outcome): string {
  if (d.kind === 'refuse') return `refuse ${d.reason}`
  if (d.kind === 'unchanged') return 'unchanged'
  return `${d.reservation.status}, seat ${d.seat}`
}

export type Operation = 'cancel' | 'begin' | 'confirm' | 'abort' | 'refund' | 'expire'
export interface Ask {
  userId?: string
  paymentId?: string
  concertId?: string
}
export function decide(op: Operation, r: Reservation, seat: LockedSeat, ask: Ask = {}): Outcome {
  const step = { userId: ask.userId ?? 'fan', paymentId: ask.paymentId ?? 'pay-1', concertId: ask.concertId, now: NOW }
  switch (op) {
    case 'cancel':
      return rules.decideCancel(r, seat, step)
    case 'begin':
      return rules.decideBeginPayment(r, seat, { ...step, payingUntil: PAYING_UNTIL })
    case 'confirm':
      return rules.decideConfirmPayment(r, seat, step)
    case 'abort':
      return rules.decideAbortPayment(r, seat, step)
    case 'refund':
      return rules.decideRefund(r, seat, step)
    case 'expire':
      return rules.decideExpiry(r, seat)
  }
}
