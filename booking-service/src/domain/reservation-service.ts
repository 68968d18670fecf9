import { AppError } from '@tickets/contracts/errors'
import { uuidv7 } from 'uuidv7'
import type { BookingMetrics, Clock, EventRelay, Reservation, ScheduleInfo, SeatStore } from './ports.js'

export interface ReservationDeps {
  seats: SeatStore
  clock: Clock
  events: EventRelay
  metrics: BookingMetrics
  holdTtlSeconds: number
  holdLimitPerUser: number
  /** How long a schedule's opening time and seat prices are used from memory before they are read again. */
  scheduleInfoTtlMs: number
}

export interface HoldRequest {
  userId: string
  scheduleId: string
  seatNumber: number
  /** The concert of the caller's ACTIVE queue token, when the gateway sent one. */
  queueConcertId?: string | undefined
}

/** What a client sees: a HELD reservation past its deadline is EXPIRED even before the sweeper runs. */
export function viewOf(r: Reservation, now: Date) {
  const status = r.status === 'HELD' && r.expiresAt <= now ? 'EXPIRED' : r.status
  return {
    reservationId: r.reservationId,
    status,
    concertId: r.concertId,
    scheduleId: r.scheduleId,
    seatNumber: r.seatNumber,
    price: r.price,
    expiresAt: r.expiresAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
    ...(r.confirmedAt ? { confirmedAt: r.confirmedAt.toISOString() } : {}),
  }
}

export function createReservationService({ seats, clock, events, metrics, holdTtlSeconds, holdLimitPerUser, scheduleInfoTtlMs }: ReservationDeps) {
  // A schedule's concert, opening time and seat prices are read on every hold but change rarely (an
  // opening postponed, a price corrected): kept in memory, read again once older than the TTL, so an
  // operator's change reaches every instance within it. One read per schedule at a time.
  const schedules = new Map<string, { at: number; info: Promise<ScheduleInfo | null> }>()
  function scheduleInfo(scheduleId: string) {
    const cached = schedules.get(scheduleId)
    if (cached && performance.now() - cached.at < scheduleInfoTtlMs) return cached.info
    const entry = { at: performance.now(), info: seats.scheduleInfo(scheduleId) }
    // An unknown schedule or a failed read is not kept (unless a newer read has replaced it already).
    const forget = () => schedules.get(scheduleId) === entry && schedules.delete(scheduleId)
    entry.info.then((found) => found ?? forget(), forget)
    schedules.set(scheduleId, entry)
    return entry.info
  }

  async function ownReservation(reservationId: string, userId: string) {
    const r = await seats.findReservation(reservationId)
    // Another user's reservation is "not found", never "forbidden": that would confirm it exists.
    if (!r || r.userId !== userId) throw new AppError('BOOKING_RESERVATION_NOT_FOUND', `No reservation ${reservationId}`)
    return r
  }

  return {
    async hold(req: HoldRequest) {
      const info = await scheduleInfo(req.scheduleId)
      if (!info) throw new AppError('BOOKING_SCHEDULE_NOT_FOUND', `Schedule ${req.scheduleId} does not exist`)
      if (req.queueConcertId !== undefined && req.queueConcertId !== info.concertId) {
        throw new AppError('QUEUE_TOKEN_FORBIDDEN', 'The queue token was issued for another concert')
      }
      const seat = info.seats.get(req.seatNumber)
      if (!seat) throw new AppError('BOOKING_SEAT_NOT_FOUND', `Schedule ${req.scheduleId} has no seat ${req.seatNumber}`)
      const now = clock.now()
      if (now < info.bookingOpensAt) throw new AppError('BOOKING_NOT_OPEN', `Booking opens at ${info.bookingOpensAt.toISOString()}`)

      const outcome = await seats.holdSeat({
        reservationId: uuidv7(),
        userId: req.userId,
        concertId: info.concertId,
        scheduleId: req.scheduleId,
        seatNumber: req.seatNumber,
        price: seat.price,
        now,
        expiresAt: new Date(now.getTime() + holdTtlSeconds * 1000),
        limit: holdLimitPerUser,
      })
      if (!outcome.ok) {
        metrics.conflict(outcome.reason)
        if (outcome.reason === 'HOLD_LIMIT') throw new AppError('BOOKING_HOLD_LIMIT', `At most ${holdLimitPerUser} seats may be held per date`)
        throw new AppError('BOOKING_SEAT_TAKEN', `Seat ${req.seatNumber} is already held or sold`)
      }
      metrics.held()
      if (outcome.tookOverExpired > 0) metrics.expired(outcome.tookOverExpired)
      events.kick()
      const r = outcome.reservation
      return { reservationId: r.reservationId, status: 'HELD' as const, price: r.price, expiresAt: r.expiresAt.toISOString() }
    },

    async get(reservationId: string, userId: string) {
      return viewOf(await ownReservation(reservationId, userId), clock.now())
    },

    async cancel(reservationId: string, userId: string) {
      const result = await seats.cancel({ reservationId, userId, now: clock.now() })
      if (result === 'NOT_FOUND') throw new AppError('BOOKING_RESERVATION_NOT_FOUND', `No reservation ${reservationId}`)
      if (result === 'NOT_HELD') throw new AppError('BOOKING_RESERVATION_NOT_HELD', 'A reservation being paid or already paid cannot be cancelled')
      if (result === 'RELEASED') events.kick()
    },

    /** One sweeper pass: releases what ran out. Returns how many seats went back. */
    async sweep(limit = 200) {
      const released = await seats.sweepExpired(clock.now(), limit)
      if (released > 0) {
        metrics.expired(released)
        events.kick()
      }
      return released
    },
  }
}
export type ReservationService = ReturnType<typeof createReservationService>
