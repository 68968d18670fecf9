import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ReservationStatus } from '../../src/domain/ports.js'
import { type Change, decideConfirmPayment, isConfirmedBy, type LockedSeat } from '../../src/domain/reservation-rules.js'
import { aReservation, decide, minutes, NOW, type Operation, STATUSES } from '../helpers/reservation-steps.js'

describe('properties over any reservation, seat row and step', () => {
  const OPERATIONS: Operation[] = ['cancel', 'begin', 'confirm', 'abort', 'refund', 'expire']
  /** The life of a reservation: which statuses each step may lead to, from which. */
  const MAY_LEAD: Record<Operation, Partial<Record<ReservationStatus, ReservationStatus[]>>> = {
    cancel: { HELD: ['CANCELLED', 'EXPIRED'] },
    begin: { HELD: ['PAYING'] },
    confirm: { HELD: ['CONFIRMED'], PAYING: ['CONFIRMED'], EXPIRED: ['CONFIRMED'] },
    abort: { PAYING: ['HELD'] },
    refund: { PAYING: ['REFUNDED'], CONFIRMED: ['REFUNDED'] },
    expire: { HELD: ['EXPIRED'], PAYING: ['EXPIRED'] },
  }

  const situation = fc.record({
    op: fc.constantFrom(...OPERATIONS),
    r: fc
      .record({
        status: fc.constantFrom(...STATUSES),
        paymentId: fc.constantFrom(null, 'pay-1', 'pay-2'),
        expiresAt: fc.constantFrom(minutes(-1), NOW, minutes(5)),
      })
      .map((o) => aReservation(o)),
    // A free seat row names no reservation; a taken one names this one or another.
    seat: fc.oneof(
      fc.constant<LockedSeat>({ status: 'AVAILABLE', reservationId: null }),
      fc.record({ status: fc.constantFrom<LockedSeat['status']>('HELD', 'PAYING', 'SOLD'), reservationId: fc.constantFrom('r-1', 'r-2') }),
    ),
    ask: fc.record({
      userId: fc.constantFrom('fan', 'someone-else'),
      paymentId: fc.constantFrom('pay-1', 'pay-2'),
      concertId: fc.constantFrom(undefined, 'c-1', 'c-2'),
    }),
  })

  /** The seat row as the store leaves it after a change. */
  function seatAfter(change: Change, seat: LockedSeat): LockedSeat {
    const id = change.reservation.reservationId
    switch (change.seat) {
      case 'RELEASE':
        return { status: 'AVAILABLE', reservationId: null }
      case 'UNTOUCHED':
        return seat
      case 'PAYING':
        return { status: 'PAYING', reservationId: id }
      case 'HELD':
        return { status: 'HELD', reservationId: id }
      case 'SOLD':
        return { status: 'SOLD', reservationId: id }
    }
  }

  it('a step leads only where the life of a reservation allows', () => {
    fc.assert(
      fc.property(situation, ({ op, r, seat, ask }) => {
        const d = decide(op, r, seat, ask)
        if (d.kind !== 'change') return
        expect(MAY_LEAD[op][r.status] ?? []).toContain(d.reservation.status)
      }),
    )
  })

  it('a change keeps who, what and where: user, concert, schedule, seat, price, hold deadline', () => {
    fc.assert(
      fc.property(situation, ({ op, r, seat, ask }) => {
        const d = decide(op, r, seat, ask)
        if (d.kind !== 'change') return
        const { status: _s, paymentId: _p, payingUntil: _u, confirmedAt: _c, ...kept } = d.reservation
        const { status: _s0, paymentId: _p0, payingUntil: _u0, confirmedAt: _c0, ...before } = r
        expect(kept).toEqual(before)
      }),
    )
  })

  it('a seat row held, paid for or sold by another reservation is never taken, nor given back', () => {
    fc.assert(
      fc.property(situation, ({ op, r, seat, ask }) => {
        const d = decide(op, r, seat, ask)
        if (d.kind !== 'change' || d.seat === 'UNTOUCHED') return
        if (seat.reservationId === 'r-2') throw new Error(`${op} on ${r.status} wrote ${d.seat} over another reservation's seat`)
        // The only seat taken from nobody: a swept payment's, still free, when its payment completes.
        if (seat.reservationId === null)
          expect({ op, status: r.status, seat: d.seat, free: seat.status }).toEqual({ op: 'confirm', status: 'EXPIRED', seat: 'SOLD', free: 'AVAILABLE' })
      }),
    )
  })

  it('another user’s reservation is "not found" to every step a user takes, and nothing changes', () => {
    fc.assert(
      fc.property(situation, ({ op, r, seat, ask }) => {
        fc.pre(op !== 'refund' && op !== 'expire')
        expect(decide(op, r, seat, { ...ask, userId: 'someone-else' })).toEqual({ kind: 'refuse', reason: 'NOT_FOUND' })
      }),
    )
  })

  it('the event path skips its transaction exactly when confirming would change nothing', () => {
    fc.assert(
      fc.property(situation, ({ r, seat, ask }) => {
        const confirm = decideConfirmPayment(r, seat, { ...ask, now: NOW })
        expect(isConfirmedBy(r, ask)).toBe(r.status === 'CONFIRMED' && confirm.kind === 'unchanged')
      }),
      // Confirmed, by this payment, for this user, with another concert is one case in a few hundred.
      { numRuns: 3_000 },
    )
  })

  it('a step that changed something, taken again on what it wrote, changes nothing more', () => {
    fc.assert(
      fc.property(situation, ({ op, r, seat, ask }) => {
        const d = decide(op, r, seat, ask)
        if (d.kind !== 'change') return
        const again = decide(op, d.reservation, seatAfter(d, seat), ask)
        expect(again).toEqual(op === 'cancel' ? { kind: 'refuse', reason: 'ALREADY_ENDED' } : { kind: 'unchanged' })
      }),
    )
  })
})
