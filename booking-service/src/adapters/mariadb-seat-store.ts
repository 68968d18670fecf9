import { isLockWaitTimeout } from '@tickets/shared/db-errors'
import { insertOutboxEvents, rewriteOutboxEvent } from '@tickets/shared/outbox'
import { markProcessed } from '@tickets/shared/processed-events'
import { Rollback, withTransaction } from '@tickets/shared/transaction'
import type { Pool, PoolConnection, UpsertResult } from 'mariadb'
import { reservationConfirmationFailed, reservationConfirmed, reservationHeld, reservationReleased } from '../domain/events.js'
import type { HoldOutcome, PaymentOutcome, PaymentRefusal, Reservation, ReservationStatus, ScheduleInfo, SeatStatus, SeatStore, SeatView } from '../domain/ports.js'
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
  type SeatChange,
} from '../domain/reservation-rules.js'

const LOCKED_SEAT_ATTEMPTS = 5
const LOCKED_SEAT_PAUSE_MS = 25
/** Locks no row but needs the seats table for writing: fails (1205) while another session has LOCK TABLES on it. */
const TABLE_WRITABLE = 'SELECT 1 FROM seats WHERE FALSE FOR UPDATE'

interface ReservationRow {
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

const RESERVATION_COLUMNS = 'id, user_id, concert_id, schedule_id, seat_number, price, status, expires_at, payment_id, paying_until, created_at, confirmed_at'

function toReservation(r: ReservationRow): Reservation {
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

interface SeatRow {
  status: LockedSeat['status']
  reservation_id: string | null
}

// Each key column through its own scalar subquery: the seat is then a primary-key lookup (a row
// comparison with one subquery scanned every seat, and FOR UPDATE would have locked them all).
const SEAT_OF_RESERVATION_FOR_UPDATE =
  'SELECT status, reservation_id FROM seats WHERE schedule_id = (SELECT schedule_id FROM reservations WHERE id = ?) AND seat_number = (SELECT seat_number FROM reservations WHERE id = ?) FOR UPDATE'

// A seat is free when AVAILABLE, or when its HELD or PAYING deadline (hold_until) has passed.
const FREE_SEAT = `(status = 'AVAILABLE' OR (status IN ('HELD', 'PAYING') AND hold_until <= ?))`

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

    async holdSeat(input) {
      return withTransaction<HoldOutcome>(pool, async (conn) => {
        // The one statement that decides the winner: it touches the row only if the seat is free now.
        // It does not wait for the row's lock (innodb_lock_wait_timeout = 0: MariaDB's NOWAIT, which
        // UPDATE has no keyword for), nor for a lock on the whole table (lock_wait_timeout = 0: a dump
        // without --single-transaction held LOCK TABLES seats READ and every hold waited out the 3 s
        // statement bound, drill 3.2.2; that one is told apart below and is a 503). Whoever holds the
        // row's lock is taking, paying for or releasing this seat, or is stuck: either way the seat is
        // not free now, and waiting would keep a pooled connection for the lock's whole life: 12 fans
        // on one stuck seat once drained the pool.
        // The one answer this gets wrong, a competitor that rolls back, is a lost race to the fan.
        // A lock held for a few milliseconds (the sweeper releasing an expired hold, a cancel) is
        // tried again a few times over ~100 ms, so the seat it frees goes to this fan.
        let won: UpsertResult | undefined
        for (let attempt = 1; !won; attempt++) {
          try {
            won = await conn.query<UpsertResult>(
              `SET STATEMENT innodb_lock_wait_timeout = 0, lock_wait_timeout = 0 FOR UPDATE seats SET status = 'HELD', reservation_id = ?, hold_until = ? WHERE schedule_id = ? AND seat_number = ? AND ${FREE_SEAT}`,
              [input.reservationId, input.expiresAt, input.scheduleId, input.seatNumber, input.now],
            )
          } catch (err) {
            if (!isLockWaitTimeout(err)) throw err
            // A lock on the whole table (a dump) is not a taken seat: this takes no row but needs the
            // table, so it gives up the same way (a 503, counted for LocksHeld) only then. The fan was
            // told "seat taken" for every free seat while a dump held the table (drill 3.2.2).
            if (attempt === 1) await conn.query(TABLE_WRITABLE)
            if (attempt >= LOCKED_SEAT_ATTEMPTS) return new Rollback<HoldOutcome>({ ok: false, reason: 'SEAT_TAKEN' })
            await new Promise((r) => setTimeout(r, LOCKED_SEAT_PAUSE_MS))
          }
        }
        if (won.affectedRows !== 1) return new Rollback<HoldOutcome>({ ok: false, reason: 'SEAT_TAKEN' })

        // The quota row serialises one user's holds on one schedule, so the count after it cannot
        // be raced past the cap; other users never wait on it. Both leave in one pipelined write.
        const [, live] = await Promise.all([
          conn.query('INSERT INTO hold_quotas (schedule_id, user_id, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE updated_at = VALUES(updated_at)', [
            input.scheduleId,
            input.userId,
            input.now,
          ]),
          conn.query<{ n: bigint | number }[]>(
            `SELECT COUNT(*) AS n FROM reservations WHERE user_id = ? AND schedule_id = ? AND status IN ('HELD', 'PAYING')
               AND ((status = 'HELD' AND expires_at > ?) OR (status = 'PAYING' AND paying_until > ?))`,
            [input.userId, input.scheduleId, input.now, input.now],
          ),
        ])
        if (Number(live[0]?.n ?? 0) >= input.limit) return new Rollback<HoldOutcome>({ ok: false, reason: 'HOLD_LIMIT' })

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
        const [stale] = await Promise.all([
          // A hold that ran out and is taken over here ends now, with its own released event.
          conn.query<ReservationRow[]>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE schedule_id = ? AND seat_number = ? AND status IN ('HELD', 'PAYING') AND id <> ?`, [
            input.scheduleId,
            input.seatNumber,
            input.reservationId,
          ]),
          conn.query(
            `INSERT INTO reservations (id, user_id, concert_id, schedule_id, seat_number, price, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'HELD', ?, ?)`,
            [
              reservation.reservationId,
              reservation.userId,
              reservation.concertId,
              reservation.scheduleId,
              reservation.seatNumber,
              reservation.price,
              reservation.expiresAt,
              input.now,
            ],
          ),
          insertOutboxEvents(conn, [reservationHeld(reservation, input.now)]),
        ])
        const ours: LockedSeat = { status: 'HELD', reservationId: input.reservationId }
        const expired = stale.map(toReservation).filter((r) => decideExpiry(r, ours).kind === 'change')
        if (expired.length > 0) {
          await Promise.all([
            conn.query(`UPDATE reservations SET status = 'EXPIRED', ended_at = ? WHERE id IN (?)`, [input.now, expired.map((r) => r.reservationId)]),
            insertOutboxEvents(
              conn,
              expired.map((r) => reservationReleased(r, 'EXPIRED', input.now)),
            ),
          ])
        }
        return { ok: true as const, reservation, tookOverExpired: expired.length }
      })
    },

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

    async beginPayment(step) {
      return withSeatLocked<PaymentOutcome>(
        step.reservationId,
        async (conn, r, seat) => {
          const decision = decideBeginPayment(r, seat, step)
          if (decision.kind === 'refuse') return new Rollback<PaymentOutcome>({ ok: false, reason: decision.reason })
          if (decision.kind === 'unchanged') return new Rollback(ok(r, false))
          await writeChange(conn, decision, step.now)
          return ok(decision.reservation, true)
        },
        { ok: false, reason: 'NOT_FOUND' },
      )
    },

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

    async abortPayment(step) {
      return withSeatLocked<PaymentOutcome>(
        step.reservationId,
        async (conn, r, seat) => {
          const decision = decideAbortPayment(r, seat, step)
          if (decision.kind === 'refuse') return new Rollback<PaymentOutcome>({ ok: false, reason: decision.reason })
          if (decision.kind === 'unchanged') return new Rollback(ok(r, false))
          await writeChange(conn, decision, step.now)
          return ok(decision.reservation, true)
        },
        { ok: false, reason: 'NOT_FOUND' },
      )
    },

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

    async concertStatus(concertId) {
      const [row] = await pool.query<{ concerts: bigint | number; open: bigint | number | null; total: bigint | number }[]>(
        `SELECT (SELECT COUNT(*) FROM concerts WHERE id = ?) AS concerts,
                SUM(t.status <> 'SOLD') AS open, COUNT(t.seat_number) AS total
           FROM schedules s JOIN seats t ON t.schedule_id = s.id WHERE s.concert_id = ?`,
        [concertId, concertId],
      )
      const exists = Number(row?.concerts ?? 0) > 0
      return { exists, soldOut: exists && Number(row?.total ?? 0) > 0 && Number(row?.open ?? 1) === 0 }
    },

    async concertInventory(concertId, now) {
      const [[concert], [dates], [counts], holds] = await Promise.all([
        pool.query<{ n: bigint | number }[]>('SELECT COUNT(*) AS n FROM concerts WHERE id = ?', [concertId]),
        pool.query<{ opens_at: Date | null }[]>('SELECT MIN(booking_opens_at) AS opens_at FROM schedules WHERE concert_id = ?', [concertId]),
        pool.query<{ total: bigint | number; sold: bigint | number | null }[]>(
          `SELECT COUNT(*) AS total, SUM(t.status = 'SOLD') AS sold FROM schedules s JOIN seats t ON t.schedule_id = s.id WHERE s.concert_id = ?`,
          [concertId],
        ),
        pool.query<{ reservation_id: string; user_id: string; hold_until: Date }[]>(
          `SELECT t.reservation_id, r.user_id, t.hold_until FROM schedules s JOIN seats t ON t.schedule_id = s.id JOIN reservations r ON r.id = t.reservation_id
            WHERE s.concert_id = ? AND t.status IN ('HELD', 'PAYING') AND t.hold_until > ?`,
          [concertId, now],
        ),
      ])
      if (Number(concert?.n ?? 0) === 0) return null
      return {
        total: Number(counts?.total ?? 0),
        sold: Number(counts?.sold ?? 0),
        opensAt: dates?.opens_at ?? null,
        holds: holds.map((h) => ({ reservationId: h.reservation_id, userId: h.user_id, until: h.hold_until })),
      }
    },
  }
}
