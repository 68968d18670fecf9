export interface ConcertSummary {
  concertId: string
  title: string
  artist: string
  venue: string
}

export interface ScheduleSummary {
  scheduleId: string
  concertId: string
  startsAt: string
  bookingOpensAt: string
  totalSeats: number
  availableSeats: number
}

export type ScheduleDates = Omit<ScheduleSummary, 'availableSeats'>

export interface CatalogueStore {
  listConcerts(): Promise<ConcertSummary[]>
  concertExists(concertId: string): Promise<boolean>
  /** Dates of a concert without seat counts (they change rarely and are cached long). */
  listScheduleDates(concertId: string): Promise<ScheduleDates[]>
  /** Free seats per schedule of a concert, counting a hold past its deadline as free. */
  countAvailable(concertId: string, now: Date): Promise<Record<string, number>>
  /** Concerts whose every seat is sold, with how long the sale took. */
  listSoldOut(): Promise<SellOut[]>
  sellOutOf(concertId: string): Promise<SellOut | null>
}

export interface SellOut {
  concertId: string
  /** Seconds from the first bookingOpensAt of the concert to its last seat sold. */
  seconds: number
}

/** A key/value cache that may be down: every call may throw, and callers fall back to the database. */
export interface Cache {
  get(key: string): Promise<string | null>
  set(key: string, value: string, ttlMs: number): Promise<void>
  /** A short lease so that one process fills a cold key while the others wait for it. */
  tryLock(key: string, ttlMs: number): Promise<boolean>
  unlock(key: string): Promise<void>
}

export interface RankingStore {
  /** Fastest first. */
  top(limit: number): Promise<SellOut[]>
  put(sellOut: SellOut): Promise<void>
  remove(concertId: string): Promise<void>
}

export interface Clock {
  now(): Date
}

export type ReservationStatus = 'HELD' | 'PAYING' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED' | 'REFUNDED'

/** Which seat a reservation is for, whose, and at what price. */
export interface ReservedSeat {
  reservationId: string
  userId: string
  concertId: string
  scheduleId: string
  seatNumber: number
  price: number
}

export interface Reservation extends ReservedSeat {
  status: ReservationStatus
  expiresAt: Date
  paymentId: string | null
  payingUntil: Date | null
  createdAt: Date
  confirmedAt: Date | null
}

export interface ScheduleInfo {
  scheduleId: string
  concertId: string
  bookingOpensAt: Date
  seats: Map<number, { grade: string; price: number }>
}

export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD'
export interface SeatView {
  seatNumber: number
  grade: string
  price: number
  status: SeatStatus
}

export interface HoldInput extends ReservedSeat {
  now: Date
  expiresAt: Date
  limit: number
}

export type HoldOutcome = { ok: true; reservation: Reservation; tookOverExpired: number } | { ok: false; reason: 'SEAT_TAKEN' | 'HOLD_LIMIT' }

/** Why a payment step was refused; the reply carries the matching error code. */
export type PaymentRefusal = 'NOT_FOUND' | 'WRONG_CONCERT' | 'HOLD_EXPIRED' | 'NOT_HELD' | 'ALREADY_PAID'
export type PaymentOutcome = { ok: true; reservation: Reservation; changed: boolean } | { ok: false; reason: PaymentRefusal }

export interface PaymentStep {
  reservationId: string
  userId: string
  paymentId: string
  concertId?: string | undefined
  now: Date
}

/** Set on steps driven by an event: the processed-event row is written in the same transaction. */
export interface Processed {
  consumer: string
  eventId: string
}

/**
 * The seat and reservation operations. Each is one transaction that locks the seat row before the
 * reservation row (the same order everywhere, so they never deadlock each other) and writes its
 * events to the outbox in that transaction.
 */
export interface SeatStore {
  scheduleInfo(scheduleId: string): Promise<ScheduleInfo | null>
  seatMap(scheduleId: string, now: Date): Promise<SeatView[]>
  holdSeat(input: HoldInput): Promise<HoldOutcome>
  findReservation(reservationId: string): Promise<Reservation | null>
  /** Releases a HELD reservation (CANCELLED, or EXPIRED if its hold already ran out). */
  cancel(input: { reservationId: string; userId: string; now: Date }): Promise<'RELEASED' | 'ALREADY_ENDED' | 'NOT_HELD' | 'NOT_FOUND'>
  /** Releases up to `limit` seats whose HELD or PAYING deadline has passed; several instances may sweep at once. */
  sweepExpired(now: Date, limit: number): Promise<number>
  /** Seats still HELD or PAYING although their deadline passed (what the sweeper has not released), counted up to `limit`. */
  holdsPastDeadline(now: Date, limit: number): Promise<number>
  beginPayment(step: PaymentStep & { payingUntil: Date }): Promise<PaymentOutcome>
  /** On refusal with `publishFailure`, writes booking.reservation.confirmation_failed in the same transaction. */
  confirmPayment(step: PaymentStep & { processed?: Processed; publishFailure?: boolean }): Promise<PaymentOutcome | { ok: false; reason: 'DUPLICATE' }>
  abortPayment(step: PaymentStep): Promise<PaymentOutcome>
  refund(input: { reservationId: string; paymentId: string; now: Date; processed: Processed }): Promise<'RELEASED' | 'NOTHING_TO_RELEASE' | 'DUPLICATE'>
  concertStatus(concertId: string): Promise<{ exists: boolean; soldOut: boolean }>
  /** Every seat of the concert, how many are sold, and each live hold, read at `now`. */
  concertInventory(concertId: string, now: Date): Promise<ConcertInventory | null>
}

export interface ConcertInventory {
  total: number
  sold: number
  opensAt: Date | null
  holds: { reservationId: string; userId: string; until: Date }[]
}

export interface BookingMetrics {
  held(): void
  conflict(reason: 'SEAT_TAKEN' | 'HOLD_LIMIT'): void
  expired(count: number): void
  confirmed(): void
}

export interface EventRelay {
  /** Publishes what the last commit wrote to the outbox now rather than on the next poll. */
  kick(): void
}
