import { randomUUID } from 'node:crypto'
import { Type, type Static, type TSchema } from 'typebox'

/** Every event on the bus: `{ id, type, version, occurredAt, data }`. `id` is the JetStream msgID. */
export const EnvelopeSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  type: Type.String({ minLength: 1 }),
  version: Type.Integer({ minimum: 1 }),
  occurredAt: Type.String(),
  data: Type.Unknown(),
})
export type Envelope<T = unknown> = Omit<Static<typeof EnvelopeSchema>, 'data'> & { data: T }

/** Streams by base name; each owns the subjects `<service>.>`. */
export const STREAMS = {
  BOOKING_EVENTS: 'booking',
  PAYMENT_EVENTS: 'payment',
  DEAD_LETTERS: 'deadletter',
} as const
export type StreamName = keyof typeof STREAMS

export const SUBJECTS = {
  RESERVATION_HELD: 'booking.reservation.held',
  RESERVATION_RELEASED: 'booking.reservation.released',
  RESERVATION_CONFIRMED: 'booking.reservation.confirmed',
  RESERVATION_CONFIRMATION_FAILED: 'booking.reservation.confirmation_failed',
  PAYMENT_COMPLETED: 'payment.payment.completed',
  PAYMENT_REFUNDED: 'payment.payment.refunded',
} as const
export type SubjectName = (typeof SUBJECTS)[keyof typeof SUBJECTS]

/**
 * Subject and stream names inside a namespace, so that tests (and tenants) share one NATS server
 * without seeing each other's messages: `t1.booking.reservation.held`, stream `T1_BOOKING_EVENTS`.
 */
export function natsNames(namespace: string) {
  const ns = namespace.trim()
  return {
    subject: (subject: string) => (ns ? `${ns}.${subject}` : subject),
    stream: (stream: StreamName) => (ns ? `${ns.toUpperCase()}_${stream}` : stream),
    streamSubjects: (stream: StreamName) => [ns ? `${ns}.${STREAMS[stream]}.>` : `${STREAMS[stream]}.>`],
    durable: (name: string) => (ns ? `${ns}_${name}` : name),
    /** Strips the namespace from a subject received on the wire. */
    local: (subject: string) => (ns && subject.startsWith(`${ns}.`) ? subject.slice(ns.length + 1) : subject),
  }
}
export type NatsNames = ReturnType<typeof natsNames>

/** Which seat a reservation is for, whose, and at what price. */
const RESERVED_SEAT = {
  reservationId: Type.String(),
  userId: Type.String(),
  concertId: Type.String(),
  scheduleId: Type.String(),
  seatNumber: Type.Integer(),
  price: Type.Integer(),
}

export const ReservationHeldSchema = Type.Object({ ...RESERVED_SEAT, expiresAt: Type.String() })
export const ReservationReleasedSchema = Type.Object({
  reservationId: Type.String(),
  userId: Type.String(),
  concertId: Type.String(),
  scheduleId: Type.String(),
  seatNumber: Type.Integer(),
  reason: Type.Union([Type.Literal('CANCELLED'), Type.Literal('EXPIRED'), Type.Literal('REFUNDED')]),
})
export const ReservationConfirmedSchema = Type.Object({
  reservationId: Type.String(),
  userId: Type.String(),
  concertId: Type.String(),
  scheduleId: Type.String(),
  seatNumber: Type.Integer(),
  paymentId: Type.String(),
  price: Type.Integer(),
  /** Every seat of the concert is now sold: the waiting room closes its line. */
  concertSoldOut: Type.Boolean(),
})
export const ReservationConfirmationFailedSchema = Type.Object({
  reservationId: Type.String(),
  userId: Type.String(),
  paymentId: Type.String(),
  reason: Type.String(),
})
export const PaymentCompletedSchema = Type.Object({
  paymentId: Type.String(),
  reservationId: Type.String(),
  userId: Type.String(),
  concertId: Type.String(),
  amount: Type.Integer(),
})
export const PaymentRefundedSchema = Type.Object({
  paymentId: Type.String(),
  reservationId: Type.String(),
  userId: Type.String(),
  amount: Type.Integer(),
  reason: Type.String(),
})

export type ReservationHeld = Static<typeof ReservationHeldSchema>
export type ReservationReleased = Static<typeof ReservationReleasedSchema>
export type ReservationConfirmed = Static<typeof ReservationConfirmedSchema>
export type ReservationConfirmationFailed = Static<typeof ReservationConfirmationFailedSchema>
export type PaymentCompleted = Static<typeof PaymentCompletedSchema>
export type PaymentRefunded = Static<typeof PaymentRefundedSchema>

export const EVENT_SCHEMAS = {
  [SUBJECTS.RESERVATION_HELD]: ReservationHeldSchema,
  [SUBJECTS.RESERVATION_RELEASED]: ReservationReleasedSchema,
  [SUBJECTS.RESERVATION_CONFIRMED]: ReservationConfirmedSchema,
  [SUBJECTS.RESERVATION_CONFIRMATION_FAILED]: ReservationConfirmationFailedSchema,
  [SUBJECTS.PAYMENT_COMPLETED]: PaymentCompletedSchema,
  [SUBJECTS.PAYMENT_REFUNDED]: PaymentRefundedSchema,
} satisfies Record<SubjectName, TSchema>

/** The `data` an event on `subject` carries. */
export type EventData<S extends SubjectName> = Static<(typeof EVENT_SCHEMAS)[S]>

/** The stream that holds a subject: the one its publishing service (the subject's first part) owns. */
export function streamOf(subject: SubjectName): StreamName {
  const owner = subject.slice(0, subject.indexOf('.'))
  const stream = (Object.keys(STREAMS) as StreamName[]).find((name) => STREAMS[name] === owner)
  if (!stream) throw new Error(`no stream holds ${subject}`)
  return stream
}

/**
 * A durable consumer's name: the consuming service, then the subject after its publisher, in kebab
 * case (`payment` reading `booking.reservation.confirmation_failed` is `payment-reservation-confirmation-failed`).
 */
export function durableName(service: string, subject: SubjectName): string {
  return [service, ...subject.split('.').slice(1)].join('-').replace(/_/g, '-')
}

export function anEnvelope<T>(type: SubjectName, data: T, opts: { id?: string; occurredAt?: Date } = {}): Envelope<T> {
  return {
    id: opts.id ?? randomUUID(),
    type,
    version: 1,
    occurredAt: (opts.occurredAt ?? new Date()).toISOString(),
    data,
  }
}

/**
 * Request/reply between payment and booking over core NATS (not JetStream: outside every stream's
 * subjects). Booking instances answer in a queue group; every handler is idempotent by paymentId.
 *   BEGIN_PAYMENT   HELD -> PAYING with a deadline the sweeper respects (same paymentId again: same answer)
 *   CONFIRM_PAYMENT PAYING -> CONFIRMED, seat SOLD (already CONFIRMED by this paymentId: ok)
 *   ABORT_PAYMENT   PAYING -> HELD again; nothing was charged (e.g. too few points)
 * If CONFIRM cannot be delivered, booking confirms from the payment.payment.completed event instead;
 * when it can no longer confirm it publishes booking.reservation.confirmation_failed and payment refunds.
 */
export const RPC = {
  BEGIN_PAYMENT: 'rpc.booking.begin_payment',
  CONFIRM_PAYMENT: 'rpc.booking.confirm_payment',
  ABORT_PAYMENT: 'rpc.booking.abort_payment',
  /** { concertId } -> ConcertStatusReply: lets the waiting room refuse unknown or sold-out concerts. */
  CONCERT_STATUS: 'rpc.booking.concert_status',
  /** { concertId } -> ConcertInventoryReply: the waiting room's resync of what is left to sell. */
  CONCERT_INVENTORY: 'rpc.booking.concert_inventory',
} as const

export const ConcertStatusReplySchema = Type.Object({ exists: Type.Boolean(), soldOut: Type.Boolean() })
export type ConcertStatusReply = Static<typeof ConcertStatusReplySchema>

/**
 * A concert's sellable inventory as booking's database has it at `asOf` (booking's clock, ms): every
 * seat of every date, how many are sold, and each live hold (HELD or PAYING, deadline not passed).
 * A hold whose deadline passed counts as free, as it does for a new hold.
 */
export const ConcertInventoryReplySchema = Type.Union([
  Type.Object({ exists: Type.Literal(false) }),
  Type.Object({
    exists: Type.Literal(true),
    asOf: Type.Number(),
    total: Type.Integer({ minimum: 0 }),
    sold: Type.Integer({ minimum: 0 }),
    /** The earliest bookingOpensAt of the concert's dates (ms). */
    opensAt: Type.Union([Type.Number(), Type.Null()]),
    holds: Type.Array(Type.Object({ reservationId: Type.String(), userId: Type.String(), until: Type.Number() })),
  }),
])
export type ConcertInventoryReply = Static<typeof ConcertInventoryReplySchema>

export const PaymentRpcRequestSchema = Type.Object({
  reservationId: Type.String(),
  userId: Type.String(),
  paymentId: Type.String(),
  /** The concert the caller's ACTIVE queue token is bound to; booking refuses another concert's reservation. */
  concertId: Type.Optional(Type.String()),
})
export type PaymentRpcRequest = Static<typeof PaymentRpcRequestSchema>

export const PaymentRpcReplySchema = Type.Union([
  Type.Object({
    ok: Type.Literal(true),
    reservation: Type.Object({ ...RESERVED_SEAT, status: Type.String(), expiresAt: Type.String() }),
  }),
  Type.Object({ ok: Type.Literal(false), code: Type.String(), detail: Type.String() }),
])
export type PaymentRpcReply = Static<typeof PaymentRpcReplySchema>
