import { isLockWaitTimeout } from '@tickets/shared/db-errors'
import { insertOutboxEvents } from '@tickets/shared/outbox'
import { Rollback, withTransaction } from '@tickets/shared/transaction'
import type { Pool, UpsertResult } from 'mariadb'
import { reservationHeld, reservationReleased } from '../domain/events.js'
import type { HoldInput, HoldOutcome } from '../domain/ports.js'
import { decideExpiry, decideHold, type LockedSeat } from '../domain/reservation-rules.js'
import { FREE_SEAT, RESERVATION_COLUMNS, toReservation, type ReservationRow } from './reservation-rows.js'

const LOCKED_SEAT_ATTEMPTS = 5
const LOCKED_SEAT_PAUSE_MS = 25
/** Locks no row but needs the seats table for writing: fails (1205) while another session has LOCK TABLES on it. */
const TABLE_WRITABLE = 'SELECT 1 FROM seats WHERE FALSE FOR UPDATE'

/** A fan's hold of one seat, in one transaction: the seat's race, the fan's limit, the reservation and its event. */
export function holdSeat(pool: Pool, input: HoldInput): Promise<HoldOutcome> {
  return withTransaction<HoldOutcome>(pool, async (conn) => {
    // The one statement that decides the race: it touches the row only if the seat is free now,
    // waiting neither for the row's lock nor for the table's (docs/decisions/holds-never-wait.md).
    // A row lock of a few milliseconds (a sweep, a cancel) is tried again a few times.
    let won: UpsertResult | undefined
    for (let attempt = 1; !won; attempt++) {
      try {
        won = await conn.query<UpsertResult>(
          `SET STATEMENT innodb_lock_wait_timeout = 0, lock_wait_timeout = 0 FOR UPDATE seats SET status = 'HELD', reservation_id = ?, hold_until = ? WHERE schedule_id = ? AND seat_number = ? AND ${FREE_SEAT}`,
          [input.reservationId, input.expiresAt, input.scheduleId, input.seatNumber, input.now],
        )
      } catch (err) {
        if (!isLockWaitTimeout(err)) throw err
        // A lock on the whole table (a dump) is no taken seat: a 503, not SEAT_TAKEN.
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
    const decision = decideHold(input, Number(live[0]?.n ?? 0))
    if (decision.kind === 'refuse') return new Rollback<HoldOutcome>({ ok: false, reason: decision.reason })
    const { reservation } = decision
    const [stale] = await Promise.all([
      // A hold that ran out and is taken over here ends now, with its own released event.
      conn.query<ReservationRow[]>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE schedule_id = ? AND seat_number = ? AND status IN ('HELD', 'PAYING') AND id <> ?`, [
        input.scheduleId,
        input.seatNumber,
        input.reservationId,
      ]),
      conn.query(`INSERT INTO reservations (id, user_id, concert_id, schedule_id, seat_number, price, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'HELD', ?, ?)`, [
        reservation.reservationId,
        reservation.userId,
        reservation.concertId,
        reservation.scheduleId,
        reservation.seatNumber,
        reservation.price,
        reservation.expiresAt,
        input.now,
      ]),
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
}
