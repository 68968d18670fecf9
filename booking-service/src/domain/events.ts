import { anEnvelope, SUBJECTS, type Envelope, type SubjectName } from '@tickets/contracts/events'
import { uuidv7 } from 'uuidv7'
import type { Reservation } from './ports.js'

export interface OutgoingEvent {
  subject: SubjectName
  event: Envelope
}

function outgoing<T>(subject: SubjectName, data: T, now: Date): OutgoingEvent {
  return { subject, event: anEnvelope(subject, data, { id: uuidv7(), occurredAt: now }) }
}

const seatOf = (r: Reservation) => ({
  reservationId: r.reservationId,
  userId: r.userId,
  concertId: r.concertId,
  scheduleId: r.scheduleId,
  seatNumber: r.seatNumber,
})

export const reservationHeld = (r: Reservation, now: Date) => outgoing(SUBJECTS.RESERVATION_HELD, { ...seatOf(r), price: r.price, expiresAt: r.expiresAt.toISOString() }, now)

export const reservationReleased = (r: Reservation, reason: 'CANCELLED' | 'EXPIRED' | 'REFUNDED', now: Date) =>
  outgoing(SUBJECTS.RESERVATION_RELEASED, { ...seatOf(r), reason }, now)

export const reservationConfirmed = (r: Reservation, paymentId: string, concertSoldOut: boolean, now: Date) =>
  outgoing(SUBJECTS.RESERVATION_CONFIRMED, { ...seatOf(r), paymentId, price: r.price, concertSoldOut }, now)

export const reservationConfirmationFailed = (input: { reservationId: string; userId: string; paymentId: string; reason: string }, now: Date) =>
  outgoing(SUBJECTS.RESERVATION_CONFIRMATION_FAILED, input, now)
