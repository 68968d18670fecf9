import type { Reservation, ReservationStatus } from '../domain/ports.js'
import type { LockedSeat } from '../domain/reservation-rules.js'

/** The rows of `reservations` and `seats` as the driver returns them, and what every query of them shares. */
export interface ReservationRow {
  id: string
  user_id: string
  concert_id: string
  schedule_id: string
  seat_number: number
  price: number
  status: string
  expires_at: Date
  payment_id: string | null
  paying_until: Date | null
  created_at: Date
  confirmed_at: Date | null
}

export const RESERVATION_COLUMNS = 'id, user_id, concert_id, schedule_id, seat_number, price, status, expires_at, payment_id, paying_until, created_at, confirmed_at'

export function toReservation(r: ReservationRow): Reservation {
  return {
    reservationId: r.id,
    userId: r.user_id,
    concertId: r.concert_id,
    scheduleId: r.schedule_id,
    seatNumber: r.seat_number,
    price: r.price,
    status: r.status as ReservationStatus,
    expiresAt: r.expires_at,
    paymentId: r.payment_id,
    payingUntil: r.paying_until,
    createdAt: r.created_at,
    confirmedAt: r.confirmed_at,
  }
}

export interface SeatRow {
  status: LockedSeat['status']
  reservation_id: string | null
}

// A seat is free when AVAILABLE, or when its HELD or PAYING deadline (hold_until) has passed.
export const FREE_SEAT = `(status = 'AVAILABLE' OR (status IN ('HELD', 'PAYING') AND hold_until <= ?))`
