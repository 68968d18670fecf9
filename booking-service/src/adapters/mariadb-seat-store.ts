import { insertOutboxEvents, rewriteOutboxEvent } from '@tickets/shared/outbox'
import { markProcessed } from '@tickets/shared/processed-events'
import { Rollback, withTransaction } from '@tickets/shared/transaction'
import type { Pool, PoolConnection } from 'mariadb'
import { reservationConfirmationFailed, reservationConfirmed, reservationReleased } from '../domain/events.js'
import type { PaymentOutcome, PaymentRefusal, Reservation, ScheduleInfo, SeatStatus, SeatStore, SeatView } from '../domain/ports.js'
import {
  decideAbortPayment,
  decideBeginPayment,
  decideCancel,
  decideConfirmPayment,
  decideExpiry,
  decideRefund,
  endedStatus,
  type Change,
  type LockedSeat,
  type Refusal,
  type SeatChange,
  type Unchanged,
} from '../domain/reservation-rules.js'
import { mariadbConcertQueries } from './mariadb-concert-queries.js'
import { holdSeat } from './mariadb-hold.js'
import { RESERVATION_COLUMNS, toReservation, type ReservationRow, type SeatRow } from './reservation-rows.js'

// Each key column through its own scalar subquery: the seat is then a primary-key lookup (a row
// comparison with one subquery scanned every seat, and FOR UPDATE would have locked them all).
const SEAT_OF_RESERVATION_FOR_UPDATE =
  'SELECT status, reservation_id FROM seats WHERE schedule_id = (SELECT schedule_id FROM reservations WHERE id = ?) AND seat_number = (SELECT seat_number FROM reservations WHERE id = ?) FOR UPDATE'

export function createMariadbSeatStore(pool: Pool): SeatStore {
  async function findReservation(reservationId: string, conn: Pool | PoolConnection = pool): Promise<Reservation | null> {
    const [row] = await conn.query<ReservationRow[]>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = ?`, [reservationId])
    return row ? toReservation(row) : null
  }

  /**
   * Runs `fn` with the reservation's seat row locked (FOR UPDATE) and the reservation read after
   * the lock: every writer of a reservation holds its seat's lock, so what `fn` sees is current.
   * One transaction on one connection, and one round trip with its start: the seat is found through
   * the reservation inside the locking read (which locks the seat row only), and the reservation is
   * read again behind it (pipelined in order). A reservation's seat never changes.
   */
  async function withSeatLocked<T>(
    reservationId: string,
    fn: (conn: PoolConnection, r: Reservation, seat: LockedSeat) => Promise<T | Rollback<T>>,
    missing: T,
    /** When there is no such reservation at all; by default `missing`, rolled back. */
    none: (conn: PoolConnection) => Promise<T | Rollback<T>> = async () => new Rollback(missing),
  ): Promise<T> {
    return withTransaction(pool, async (conn) => {
      const [[seat], r] = await Promise.all([conn.query<SeatRow[]>(SEAT_OF_RESERVATION_FOR_UPDATE, [reservationId, reservationId]), findReservation(reservationId, conn)])
      if (!r) return none(conn)
      if (!seat) return new Rollback(missing)
      return fn(conn, r, { status: seat.status, reservationId: seat.reservation_id })
    })
  }

  function writeSeat(conn: PoolConnection, r: Reservation, change: SeatChange): Promise<unknown> {
    const seat = [r.scheduleId, r.seatNumber]
    switch (change) {
      case 'RELEASE':
        return conn.query(`UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL, hold_until = NULL WHERE schedule_id = ? AND seat_number = ? AND reservation_id = ?`, [
          ...seat,
          r.reservationId,
        ])
      case 'PAYING':
        return conn.query(`UPDATE seats SET status = 'PAYING', hold_until = ? WHERE schedule_id = ? AND seat_number = ?`, [r.payingUntil, ...seat])
      case 'HELD':
        return conn.query(`UPDATE seats SET status = 'HELD', hold_until = ? WHERE schedule_id = ? AND seat_number = ?`, [r.expiresAt, ...seat])
      case 'SOLD':
        return conn.query(`UPDATE seats SET status = 'SOLD', reservation_id = ?, hold_until = NULL WHERE schedule_id = ? AND seat_number = ?`, [r.reservationId, ...seat])
      case 'UNTOUCHED':
        return Promise.resolve()
    }
  }

  /** The reservation as a rule left it; ended_at is set when it ends (and cleared otherwise). */
  function writeReservation(conn: PoolConnection, r: Reservation, now: Date): Promise<unknown> {
    return conn.query('UPDATE reservations SET status = ?, payment_id = ?, paying_until = ?, confirmed_at = ?, ended_at = ? WHERE id = ?', [
      r.status,
      r.paymentId,
      r.payingUntil,
      r.confirmedAt,
      endedStatus(r.status) ? now : null,
      r.reservationId,
    ])
  }

  /**
   * Writes a rule's change: the seat row, the reservation and, when it ended, its released event,
   * pipelined in this order (one round trip).
   */
  async function writeChange(conn: PoolConnection, change: Change, now: Date): Promise<void> {
    const r = change.reservation
    const ended = endedStatus(r.status)
    await Promise.all([writeSeat(conn, r, change.seat), writeReservation(conn, r, now), insertOutboxEvents(conn, ended ? [reservationReleased(r, ended, now)] : [])])
  }

  /**
   * Whether this sale (its seat already SOLD on `conn`) leaves the concert with no seat to sell.
   * While a seat is AVAILABLE or HELD, no: one constant-time look, no lock. Only when every other
   * seat is SOLD or PAYING (another sale may be committing beside this one) is the concert row
   * locked and the question asked again, so that two last seats sold at once cannot both miss the
   * sell-out. Locking and counting every seat on each sale serialised a concert's payments behind a
   * scan of all its seats (21 ms at 50,000 seats).
   */
  async function concertSoldOut(conn: PoolConnection, concertId: string, sold: Promise<unknown>): Promise<boolean> {
    const ofConcert = 'SELECT 1 FROM seats t JOIN schedules s ON s.id = t.schedule_id WHERE s.concert_id = ?'
    // Pipelined behind the sale's own writes (one round trip).
    const [, [sellable]] = await Promise.all([sold, conn.query<{ open: number }[]>(`SELECT EXISTS(${ofConcert} AND t.status IN ('AVAILABLE', 'HELD')) AS open`, [concertId])])
    if (Number(sellable?.open) === 1) return false
    // Pipelined: the look runs once the lock is held and, READ COMMITTED, sees every sale committed before it.
    const [, [unsold]] = await Promise.all([
      conn.query('SELECT id FROM concerts WHERE id = ? FOR UPDATE', [concertId]),
      conn.query<{ open: number }[]>(`SELECT EXISTS(${ofConcert} AND t.status <> 'SOLD') AS open`, [concertId]),
    ])
    return Number(unsold?.open) === 0
  }

  const ok = (reservation: Reservation, changed: boolean): PaymentOutcome => ({ ok: true, reservation, changed })

  /** A payment step that writes its decision alone: refused or unchanged, nothing is written. */
  function paymentStep(step: { reservationId: string; now: Date }, decide: (r: Reservation, seat: LockedSeat) => Refusal<PaymentRefusal> | Unchanged | Change) {
    return withSeatLocked<PaymentOutcome>(
      step.reservationId,
      async (conn, r, seat) => {
        const decision = decide(r, seat)
        if (decision.kind === 'refuse') return new Rollback<PaymentOutcome>({ ok: false, reason: decision.reason })
        if (decision.kind === 'unchanged') return new Rollback(ok(r, false))
        await writeChange(conn, decision, step.now)
        return ok(decision.reservation, true)
      },
      { ok: false, reason: 'NOT_FOUND' },
    )
  }

  return {
    async scheduleInfo(scheduleId) {
      const [schedule] = await pool.query<{ concert_id: string; booking_opens_at: Date }[]>('SELECT concert_id, booking_opens_at FROM schedules WHERE id = ?', [scheduleId])
      if (!schedule) return null
      const seats = await pool.query<{ seat_number: number; grade: string; price: number }[]>('SELECT seat_number, grade, price FROM seats WHERE schedule_id = ?', [scheduleId])
      const info: ScheduleInfo = {
        scheduleId,
        concertId: schedule.concert_id,
        bookingOpensAt: schedule.booking_opens_at,
        seats: new Map(seats.map((s) => [s.seat_number, { grade: s.grade, price: s.price }])),
      }
      return info
    },

    async seatMap(scheduleId, now) {
      const rows = await pool.query<{ seat_number: number; grade: string; price: number; status: string; hold_until: Date | null }[]>(
        'SELECT seat_number, grade, price, status, hold_until FROM seats WHERE schedule_id = ? ORDER BY seat_number',
        [scheduleId],
      )
      return rows.map((s): SeatView => {
        let status: SeatStatus = 'AVAILABLE'
        if (s.status === 'SOLD') status = 'SOLD'
        else if ((s.status === 'HELD' || s.status === 'PAYING') && s.hold_until && s.hold_until > now) status = 'HELD'
        return { seatNumber: s.seat_number, grade: s.grade, price: s.price, status }
      })
    },

    holdSeat: (input) => holdSeat(pool, input),

    findReservation: (id) => findReservation(id),

    async cancel({ reservationId, userId, now }) {
      return withSeatLocked(
        reservationId,
        async (conn, r, seat) => {
          const decision = decideCancel(r, seat, { userId, now })
          if (decision.kind === 'refuse') return new Rollback(decision.reason)
          await writeChange(conn, decision, now)
          return 'RELEASED' as const
        },
        'NOT_FOUND' as const,
      )
    },

    async sweepExpired(now, limit) {
      return withTransaction(pool, async (conn) => {
        // SKIP LOCKED: instances sweep side by side, and a seat being held or paid right now is left to its owner.
        const seats = await conn.query<(SeatRow & { schedule_id: string; seat_number: number })[]>(
          `SELECT schedule_id, seat_number, status, reservation_id FROM seats WHERE status IN ('HELD', 'PAYING') AND hold_until <= ? LIMIT ? FOR UPDATE SKIP LOCKED`,
          [now, limit],
        )
        for (const seat of seats) {
          const r = seat.reservation_id ? await findReservation(seat.reservation_id, conn) : null
          const decision = r ? decideExpiry(r, { status: seat.status, reservationId: seat.reservation_id }) : undefined
          if (decision?.kind === 'change') {
            await writeChange(conn, decision, now)
          } else {
            // A seat past its deadline with no live reservation behind it (none should be) goes back too.
            await conn.query(`UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL, hold_until = NULL WHERE schedule_id = ? AND seat_number = ?`, [
              seat.schedule_id,
              seat.seat_number,
            ])
          }
        }
        return seats.length
      })
    },

    async holdsPastDeadline(now, limit) {
      // Bounded, on the (status, hold_until) index: a scrape never counts a whole table.
      const [row] = await pool.query<{ n: bigint | number }[]>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM seats WHERE status IN ('HELD', 'PAYING') AND hold_until <= ? LIMIT ?) past`,
        [now, limit],
      )
      return Number(row?.n ?? 0)
    },

    beginPayment: (step) => paymentStep(step, (r, seat) => decideBeginPayment(r, seat, step)),

    async confirmPayment(step) {
      type Confirmed = PaymentOutcome | { ok: false; reason: 'DUPLICATE' }
      // Past the user check, the reservation's user is the step's: the failure names the step's.
      const refuse = async (conn: PoolConnection, reason: PaymentRefusal): Promise<Confirmed | Rollback<Confirmed>> => {
        if (!step.publishFailure) return new Rollback<Confirmed>({ ok: false, reason })
        await insertOutboxEvents(conn, [reservationConfirmationFailed({ reservationId: step.reservationId, userId: step.userId, paymentId: step.paymentId, reason }, step.now)])
        return { ok: false as const, reason }
      }
      return withSeatLocked<Confirmed>(
        step.reservationId,
        async (conn, r, seat) => {
          if (!(await markProcessed(conn, step.processed))) return new Rollback({ ok: false, reason: 'DUPLICATE' })
          const decision = decideConfirmPayment(r, seat, step)
          if (decision.kind === 'refuse') return refuse(conn, decision.reason)
          // Committed: the processed marker stays, a redelivery is a duplicate.
          if (decision.kind === 'unchanged') return ok(r, false)
          const confirmed = decision.reservation
          // One round trip: the sale, its event and the sell-out look behind them (pipelined in
          // order). The event says seats are left, as it nearly always is; the last sale rewrites it.
          const event = reservationConfirmed(confirmed, step.paymentId, false, step.now)
          const soldOut = await concertSoldOut(conn, confirmed.concertId, Promise.all([writeChange(conn, decision, step.now), insertOutboxEvents(conn, [event])]))
          if (soldOut) {
            const last = reservationConfirmed(confirmed, step.paymentId, true, step.now)
            await rewriteOutboxEvent(conn, { ...last, event: { ...last.event, id: event.event.id } })
          }
          return ok(confirmed, true)
        },
        { ok: false, reason: 'NOT_FOUND' },
        // Nothing to confirm: tell payment (once) so that it refunds.
        async (conn) => {
          if (!(await markProcessed(conn, step.processed))) return new Rollback<Confirmed>({ ok: false, reason: 'DUPLICATE' })
          return refuse(conn, 'NOT_FOUND')
        },
      )
    },

    abortPayment: (step) => paymentStep(step, (r, seat) => decideAbortPayment(r, seat, step)),

    async refund({ reservationId, paymentId, now, processed }) {
      return withSeatLocked<'RELEASED' | 'NOTHING_TO_RELEASE' | 'DUPLICATE'>(
        reservationId,
        async (conn, r, seat) => {
          if (!(await markProcessed(conn, processed))) return new Rollback('DUPLICATE' as const)
          const decision = decideRefund(r, seat, { paymentId })
          // Committed either way: the processed marker stays, a redelivery is a duplicate.
          if (decision.kind !== 'change') return 'NOTHING_TO_RELEASE' as const
          await writeChange(conn, decision, now)
          return 'RELEASED' as const
        },
        'NOTHING_TO_RELEASE' as const,
        async (conn) => ((await markProcessed(conn, processed)) ? 'NOTHING_TO_RELEASE' : new Rollback('DUPLICATE' as const)),
      )
    },

    ...mariadbConcertQueries(pool),
  }
}
