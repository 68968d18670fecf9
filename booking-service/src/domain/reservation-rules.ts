import type { HoldInput, PaymentRefusal, Reservation, ReservationStatus } from './ports.js'

/**
 * A reservation's life, as pure decisions: a seat won → HELD (within the fan's hold limit), HELD → PAYING → CONFIRMED, PAYING → HELD (abort),
 * HELD → CANCELLED, HELD/PAYING → EXPIRED, PAYING/CONFIRMED → REFUNDED, and an EXPIRED one whose
 * payment went through while its seat stayed free → CONFIRMED. The seat store locks the seat row,
 * reads the reservation, asks one of these, and writes what it answers in the same transaction.
 */

/** The reservation's seat row, as read under its lock. */
export interface LockedSeat {
  status: 'AVAILABLE' | 'HELD' | 'PAYING' | 'SOLD'
  reservationId: string | null
}

/** What to do with the seat row: give it back, keep it for the payment, sell it, hold it again, or leave it. */
export type SeatChange = 'RELEASE' | 'PAYING' | 'SOLD' | 'HELD' | 'UNTOUCHED'

export type Refusal<Reason> = { kind: 'refuse'; reason: Reason }
/** Nothing to write: the step was done before, or does not concern this reservation. */
export type Unchanged = { kind: 'unchanged' }
/** The reservation after the step, and what happens to its seat row. */
export type Change = { kind: 'change'; reservation: Reservation; seat: SeatChange }

interface Step {
  userId: string
  paymentId: string
  /** The concert of the caller's queue token, when it has one. */
  concertId?: string | undefined
}

export type EndedStatus = 'CANCELLED' | 'EXPIRED' | 'REFUNDED'

/** The status itself when it ends the reservation (its seat released, its released event due), else undefined. */
export function endedStatus(status: ReservationStatus): EndedStatus | undefined {
  return status === 'CANCELLED' || status === 'EXPIRED' || status === 'REFUNDED' ? status : undefined
}

const refuse = <R>(reason: R): Refusal<R> => ({ kind: 'refuse', reason })
const UNCHANGED: Unchanged = { kind: 'unchanged' }
const change = (reservation: Reservation, seat: SeatChange): Change => ({ kind: 'change', reservation, seat })

const holdsItsSeat = (r: Reservation, seat: LockedSeat) => seat.reservationId === r.reservationId
const isLive = (r: Reservation) => r.status === 'HELD' || r.status === 'PAYING'

/** Someone else's reservation is "not found": its existence is not theirs to learn. */
function misaddressed(r: Reservation, step: Pick<Step, 'userId' | 'concertId'>): PaymentRefusal | undefined {
  if (r.userId !== step.userId) return 'NOT_FOUND'
  if (step.concertId !== undefined && step.concertId !== r.concertId) return 'WRONG_CONCERT'
  return undefined
}

/** This payment already confirmed `r`, for this caller: confirming again changes nothing, whatever the seat row says. */
export function isConfirmedBy(r: Reservation, step: Step): boolean {
  return r.status === 'CONFIRMED' && r.paymentId === step.paymentId && !misaddressed(r, step)
}

/**
 * The fan won the seat (the store's one conditional UPDATE decides that race): the hold is theirs
 * unless they already hold `limit` live seats of this date, counted under their quota row's lock.
 */
export function decideHold(input: HoldInput, liveHolds: number): Refusal<'HOLD_LIMIT'> | Change {
  if (liveHolds >= input.limit) return refuse('HOLD_LIMIT')
  const reservation: Reservation = {
    reservationId: input.reservationId,
    userId: input.userId,
    concertId: input.concertId,
    scheduleId: input.scheduleId,
    seatNumber: input.seatNumber,
    price: input.price,
    status: 'HELD',
    expiresAt: input.expiresAt,
    paymentId: null,
    payingUntil: null,
    createdAt: input.now,
    confirmedAt: null,
  }
  return change(reservation, 'HELD')
}

/** The fan lets a HELD seat go; one whose hold already ran out ends EXPIRED rather than CANCELLED. */
export function decideCancel(r: Reservation, seat: LockedSeat, step: { userId: string; now: Date }): Refusal<'NOT_FOUND' | 'NOT_HELD' | 'ALREADY_ENDED'> | Change {
  if (r.userId !== step.userId) return refuse('NOT_FOUND')
  if (r.status === 'PAYING' || r.status === 'CONFIRMED') return refuse('NOT_HELD')
  if (r.status !== 'HELD') return refuse('ALREADY_ENDED')
  return change({ ...r, status: r.expiresAt <= step.now ? 'EXPIRED' : 'CANCELLED' }, holdsItsSeat(r, seat) ? 'RELEASE' : 'UNTOUCHED')
}

/** Payment starts on a live hold; the same payment asking again is answered as it was. */
export function decideBeginPayment(r: Reservation, seat: LockedSeat, step: Step & { now: Date; payingUntil: Date }): Refusal<PaymentRefusal> | Unchanged | Change {
  const wrong = misaddressed(r, step)
  if (wrong) return refuse(wrong)
  if ((r.status === 'PAYING' || r.status === 'CONFIRMED') && r.paymentId === step.paymentId) return UNCHANGED
  if (r.status === 'CONFIRMED') return refuse('ALREADY_PAID')
  if (r.status === 'EXPIRED' || (r.status === 'HELD' && r.expiresAt <= step.now)) return refuse('HOLD_EXPIRED')
  if (r.status !== 'HELD' || !holdsItsSeat(r, seat)) return refuse('NOT_HELD')
  return change({ ...r, status: 'PAYING', paymentId: step.paymentId, payingUntil: step.payingUntil }, 'PAYING')
}

/**
 * The payment went through: the seat is sold if it is still this reservation's. The money is
 * already taken, so a hold past its deadline that nobody took over still stands, and so does an
 * EXPIRED one of this payment whose seat nobody took since the sweeper freed it.
 */
export function decideConfirmPayment(r: Reservation, seat: LockedSeat, step: Step & { now: Date }): Refusal<PaymentRefusal> | Unchanged | Change {
  const wrong = misaddressed(r, step)
  if (wrong) return refuse(wrong)
  if (r.status === 'CONFIRMED') return isConfirmedBy(r, step) ? UNCHANGED : refuse('ALREADY_PAID')
  const seatIsOurs = holdsItsSeat(r, seat) && (seat.status === 'HELD' || seat.status === 'PAYING')
  const samePayment = r.paymentId === null || r.paymentId === step.paymentId
  const live = isLive(r) && seatIsOurs && samePayment
  const regrab = r.status === 'EXPIRED' && r.paymentId === step.paymentId && seat.status === 'AVAILABLE'
  if (!live && !regrab) return refuse(isLive(r) || r.status === 'EXPIRED' ? 'HOLD_EXPIRED' : 'NOT_HELD')
  return change({ ...r, status: 'CONFIRMED', paymentId: step.paymentId, confirmedAt: step.now }, 'SOLD')
}

/** The payment failed before taking money: the seat goes back to a plain hold until its first deadline. */
export function decideAbortPayment(r: Reservation, seat: LockedSeat, step: Step): Refusal<PaymentRefusal> | Unchanged | Change {
  const wrong = misaddressed(r, step)
  if (wrong) return refuse(wrong)
  if (r.status === 'CONFIRMED') return refuse('ALREADY_PAID')
  if (r.status === 'PAYING' && r.paymentId !== step.paymentId) return refuse('NOT_HELD')
  if (r.status !== 'PAYING') return UNCHANGED
  return change({ ...r, status: 'HELD', paymentId: null, payingUntil: null }, holdsItsSeat(r, seat) ? 'HELD' : 'UNTOUCHED')
}

/** Payment gave the money back: a seat sold or being paid for by that payment is released. */
export function decideRefund(r: Reservation, seat: LockedSeat, step: { paymentId: string }): Unchanged | Change {
  if ((r.status !== 'CONFIRMED' && r.status !== 'PAYING') || r.paymentId !== step.paymentId) return UNCHANGED
  return change({ ...r, status: 'REFUNDED' }, holdsItsSeat(r, seat) ? 'RELEASE' : 'UNTOUCHED')
}

/**
 * Its seat's HELD or PAYING deadline has passed (the sweeper found it, or a new hold took the seat
 * over): a reservation still live ends EXPIRED, and gives its seat back if the row is still its own.
 */
export function decideExpiry(r: Reservation, seat: LockedSeat): Unchanged | Change {
  return isLive(r) ? change({ ...r, status: 'EXPIRED' }, holdsItsSeat(r, seat) ? 'RELEASE' : 'UNTOUCHED') : UNCHANGED
}
