import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Reservation, ReservationStatus } from '../../src/domain/ports.js'
import {
  decideAbortPayment,
  decideBeginPayment,
  decideCancel,
  decideConfirmPayment,
  decideExpiry,
  decideRefund,
  isConfirmedBy,
  type Change,
  type LockedSeat,
  type Refusal,
  type Unchanged,
} from '../../src/domain/reservation-rules.js'

const NOW = new Date('2026-06-01T10:00:00Z')
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000)
const PAYING_UNTIL = minutes(10)

function aReservation(overrides: Partial<Reservation> = {}): Reservation {
  return {
    reservationId: 'r-1',
    userId: 'fan',
    concertId: 'c-1',
    scheduleId: 's-1',
    seatNumber: 7,
    price: 100,
    status: 'HELD',
    expiresAt: minutes(5),
    paymentId: null,
    payingUntil: null,
    createdAt: minutes(-1),
    confirmedAt: null,
    ...overrides,
  }
}

/** Each status as the seat store leaves it: its payment, and its seat row. */
const AS_STORED: Record<ReservationStatus, { reservation: Partial<Reservation>; seat: LockedSeat }> = {
  HELD: { reservation: {}, seat: { status: 'HELD', reservationId: 'r-1' } },
  PAYING: { reservation: { paymentId: 'pay-1', payingUntil: PAYING_UNTIL }, seat: { status: 'PAYING', reservationId: 'r-1' } },
  CONFIRMED: { reservation: { paymentId: 'pay-1', confirmedAt: minutes(-1) }, seat: { status: 'SOLD', reservationId: 'r-1' } },
  CANCELLED: { reservation: {}, seat: { status: 'AVAILABLE', reservationId: null } },
  // Swept while its payment was under way.
  EXPIRED: { reservation: { paymentId: 'pay-1', payingUntil: minutes(-1) }, seat: { status: 'AVAILABLE', reservationId: null } },
  REFUNDED: { reservation: { paymentId: 'pay-1' }, seat: { status: 'AVAILABLE', reservationId: null } },
}
const STATUSES = Object.keys(AS_STORED) as ReservationStatus[]
const stored = (status: ReservationStatus) => ({ r: aReservation({ status, ...AS_STORED[status].reservation }), seat: AS_STORED[status].seat })

type Outcome = Refusal<string> | Unchanged | Change
/** A decision in one word: `refuse NOT_HELD`, `unchanged`, `PAYING, seat PAYING`. */
function summary(d: Outcome): string {
  if (d.kind === 'refuse') return `refuse ${d.reason}`
  if (d.kind === 'unchanged') return 'unchanged'
  return `${d.reservation.status}, seat ${d.seat}`
}

type Operation = 'cancel' | 'begin' | 'confirm' | 'abort' | 'refund' | 'expire'
interface Ask {
  userId?: string
  paymentId?: string
  concertId?: string
}
function decide(op: Operation, r: Reservation, seat: LockedSeat, ask: Ask = {}): Outcome {
  const step = { userId: ask.userId ?? 'fan', paymentId: ask.paymentId ?? 'pay-1', concertId: ask.concertId, now: NOW }
  switch (op) {
    case 'cancel':
      return decideCancel(r, seat, step)
    case 'begin':
      return decideBeginPayment(r, seat, { ...step, payingUntil: PAYING_UNTIL })
    case 'confirm':
      return decideConfirmPayment(r, seat, step)
    case 'abort':
      return decideAbortPayment(r, seat, step)
    case 'refund':
      return decideRefund(r, seat, step)
    case 'expire':
      return decideExpiry(r, seat)
  }
}

describe('every status x every step, on the reservation as the store leaves it (its payment is pay-1)', () => {
  const EXPECTED: Record<Operation, Record<'pay-1' | 'pay-2', Record<ReservationStatus, string>>> = {
    cancel: {
      'pay-1': {
        HELD: 'CANCELLED, seat RELEASE',
        PAYING: 'refuse NOT_HELD',
        CONFIRMED: 'refuse NOT_HELD',
        CANCELLED: 'refuse ALREADY_ENDED',
        EXPIRED: 'refuse ALREADY_ENDED',
        REFUNDED: 'refuse ALREADY_ENDED',
      },
      'pay-2': {
        HELD: 'CANCELLED, seat RELEASE',
        PAYING: 'refuse NOT_HELD',
        CONFIRMED: 'refuse NOT_HELD',
        CANCELLED: 'refuse ALREADY_ENDED',
        EXPIRED: 'refuse ALREADY_ENDED',
        REFUNDED: 'refuse ALREADY_ENDED',
      },
    },
    begin: {
      'pay-1': {
        HELD: 'PAYING, seat PAYING',
        PAYING: 'unchanged',
        CONFIRMED: 'unchanged',
        CANCELLED: 'refuse NOT_HELD',
        EXPIRED: 'refuse HOLD_EXPIRED',
        REFUNDED: 'refuse NOT_HELD',
      },
      'pay-2': {
        HELD: 'PAYING, seat PAYING',
        PAYING: 'refuse NOT_HELD',
        CONFIRMED: 'refuse ALREADY_PAID',
        CANCELLED: 'refuse NOT_HELD',
        EXPIRED: 'refuse HOLD_EXPIRED',
        REFUNDED: 'refuse NOT_HELD',
      },
    },
    confirm: {
      'pay-1': {
        HELD: 'CONFIRMED, seat SOLD',
        PAYING: 'CONFIRMED, seat SOLD',
        CONFIRMED: 'unchanged',
        CANCELLED: 'refuse NOT_HELD',
        EXPIRED: 'CONFIRMED, seat SOLD',
        REFUNDED: 'refuse NOT_HELD',
      },
      'pay-2': {
        HELD: 'CONFIRMED, seat SOLD',
        PAYING: 'refuse HOLD_EXPIRED',
        CONFIRMED: 'refuse ALREADY_PAID',
        CANCELLED: 'refuse NOT_HELD',
        EXPIRED: 'refuse HOLD_EXPIRED',
        REFUNDED: 'refuse NOT_HELD',
      },
    },
    abort: {
      'pay-1': {
        HELD: 'unchanged',
        PAYING: 'HELD, seat HELD',
        CONFIRMED: 'refuse ALREADY_PAID',
        CANCELLED: 'unchanged',
        EXPIRED: 'unchanged',
        REFUNDED: 'unchanged',
      },
      'pay-2': {
        HELD: 'unchanged',
        PAYING: 'refuse NOT_HELD',
        CONFIRMED: 'refuse ALREADY_PAID',
        CANCELLED: 'unchanged',
        EXPIRED: 'unchanged',
        REFUNDED: 'unchanged',
      },
    },
    refund: {
      'pay-1': {
        HELD: 'unchanged',
        PAYING: 'REFUNDED, seat RELEASE',
        CONFIRMED: 'REFUNDED, seat RELEASE',
        CANCELLED: 'unchanged',
        EXPIRED: 'unchanged',
        REFUNDED: 'unchanged',
      },
      'pay-2': { HELD: 'unchanged', PAYING: 'unchanged', CONFIRMED: 'unchanged', CANCELLED: 'unchanged', EXPIRED: 'unchanged', REFUNDED: 'unchanged' },
    },
    expire: {
      'pay-1': {
        HELD: 'EXPIRED, seat RELEASE',
        PAYING: 'EXPIRED, seat RELEASE',
        CONFIRMED: 'unchanged',
        CANCELLED: 'unchanged',
        EXPIRED: 'unchanged',
        REFUNDED: 'unchanged',
      },
      'pay-2': {
        HELD: 'EXPIRED, seat RELEASE',
        PAYING: 'EXPIRED, seat RELEASE',
        CONFIRMED: 'unchanged',
        CANCELLED: 'unchanged',
        EXPIRED: 'unchanged',
        REFUNDED: 'unchanged',
      },
    },
  }
  const cases = Object.entries(EXPECTED).flatMap(([op, byPayment]) =>
    Object.entries(byPayment).flatMap(([paymentId, byStatus]) => STATUSES.map((status) => ({ op: op as Operation, paymentId, status, expected: byStatus[status] }))),
  )

  it.each(cases)('$op by $paymentId on $status: $expected', ({ op, paymentId, status, expected }) => {
    const { r, seat } = stored(status)
    expect(summary(decide(op, r, seat, { paymentId }))).toBe(expected)
  })
})

describe('the deadlines, the seat row, the user and the concert', () => {
  const past = { expiresAt: minutes(-1) }
  const othersSeat = (status: LockedSeat['status']): LockedSeat => ({ status, reservationId: 'r-2' })
  const cases: { name: string; op: Operation; r: Reservation; seat: LockedSeat; ask?: Ask; expected: string }[] = [
    { name: 'cancel of a hold past its deadline ends it EXPIRED', op: 'cancel', r: aReservation(past), seat: stored('HELD').seat, expected: 'EXPIRED, seat RELEASE' },
    {
      name: 'cancel of a hold whose seat row is no longer its own leaves the seat',
      op: 'cancel',
      r: aReservation(),
      seat: othersSeat('HELD'),
      expected: 'CANCELLED, seat UNTOUCHED',
    },
    {
      name: 'cancel at the very moment of the deadline ends it EXPIRED',
      op: 'cancel',
      r: aReservation({ expiresAt: NOW }),
      seat: stored('HELD').seat,
      expected: 'EXPIRED, seat RELEASE',
    },
    {
      name: 'payment cannot begin at the very moment of the deadline',
      op: 'begin',
      r: aReservation({ expiresAt: NOW }),
      seat: stored('HELD').seat,
      expected: 'refuse HOLD_EXPIRED',
    },
    { name: 'payment cannot begin on a hold past its deadline', op: 'begin', r: aReservation(past), seat: stored('HELD').seat, expected: 'refuse HOLD_EXPIRED' },
    { name: 'payment cannot begin when the seat row is another reservation’s', op: 'begin', r: aReservation(), seat: othersSeat('HELD'), expected: 'refuse NOT_HELD' },
    {
      name: 'payment cannot begin under another concert’s queue token',
      op: 'begin',
      r: aReservation(),
      seat: stored('HELD').seat,
      ask: { concertId: 'c-2' },
      expected: 'refuse WRONG_CONCERT',
    },
    {
      name: 'payment begins under the reservation’s own concert token',
      op: 'begin',
      r: aReservation(),
      seat: stored('HELD').seat,
      ask: { concertId: 'c-1' },
      expected: 'PAYING, seat PAYING',
    },
    {
      name: 'a paid hold past its deadline whose seat nobody took is confirmed',
      op: 'confirm',
      r: aReservation(past),
      seat: stored('HELD').seat,
      expected: 'CONFIRMED, seat SOLD',
    },
    { name: 'a paid hold whose seat another took is refused', op: 'confirm', r: aReservation(), seat: othersSeat('HELD'), expected: 'refuse HOLD_EXPIRED' },
    { name: 'a swept payment whose seat another took since is refused', op: 'confirm', r: stored('EXPIRED').r, seat: othersSeat('PAYING'), expected: 'refuse HOLD_EXPIRED' },
    {
      name: 'a hold swept before any payment began cannot be confirmed',
      op: 'confirm',
      r: aReservation({ status: 'EXPIRED' }),
      seat: stored('EXPIRED').seat,
      expected: 'refuse HOLD_EXPIRED',
    },
    {
      name: 'confirmation under another concert’s token is refused',
      op: 'confirm',
      r: stored('PAYING').r,
      seat: stored('PAYING').seat,
      ask: { concertId: 'c-2' },
      expected: 'refuse WRONG_CONCERT',
    },
    { name: 'an aborted payment whose seat row is not its own leaves the seat', op: 'abort', r: stored('PAYING').r, seat: othersSeat('HELD'), expected: 'HELD, seat UNTOUCHED' },
    {
      name: 'abort under another concert’s token is refused',
      op: 'abort',
      r: stored('PAYING').r,
      seat: stored('PAYING').seat,
      ask: { concertId: 'c-2' },
      expected: 'refuse WRONG_CONCERT',
    },
    {
      name: 'a live hold whose seat a new hold took over expires and leaves the seat',
      op: 'expire',
      r: aReservation(past),
      seat: othersSeat('HELD'),
      expected: 'EXPIRED, seat UNTOUCHED',
    },
    {
      name: 'a refund of a sale whose seat row is not its own leaves the seat',
      op: 'refund',
      r: stored('CONFIRMED').r,
      seat: othersSeat('HELD'),
      expected: 'REFUNDED, seat UNTOUCHED',
    },
    ...(['cancel', 'begin', 'confirm', 'abort'] as const).map((op) => ({
      name: `${op} of another user’s reservation is "not found"`,
      op,
      r: stored('PAYING').r,
      seat: stored('PAYING').seat,
      ask: { userId: 'someone-else' },
      expected: 'refuse NOT_FOUND',
    })),
  ]

  it.each(cases)('$name', ({ op, r, seat, ask, expected }) => {
    expect(summary(decide(op, r, seat, ask))).toBe(expected)
  })

  it('when payment begins, then the reservation carries the payment and its deadline; the hold deadline stays', () => {
    const d = decideBeginPayment(aReservation(), stored('HELD').seat, { userId: 'fan', paymentId: 'pay-9', now: NOW, payingUntil: PAYING_UNTIL })
    expect(d).toEqual({ kind: 'change', seat: 'PAYING', reservation: aReservation({ status: 'PAYING', paymentId: 'pay-9', payingUntil: PAYING_UNTIL }) })
  })

  it('when a payment is confirmed, then the reservation records the payment and the time; an abort clears the payment', () => {
    expect(decideConfirmPayment(aReservation(), stored('HELD').seat, { userId: 'fan', paymentId: 'pay-9', now: NOW })).toMatchObject({
      reservation: { status: 'CONFIRMED', paymentId: 'pay-9', confirmedAt: NOW },
    })
    expect(decideAbortPayment(stored('PAYING').r, stored('PAYING').seat, { userId: 'fan', paymentId: 'pay-1' })).toMatchObject({
      reservation: { status: 'HELD', paymentId: null, payingUntil: null, expiresAt: minutes(5) },
    })
  })
})

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

  it('the event path skips its transaction exactly when confirming would change nothing on a confirmed reservation, whatever the seat row', () => {
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
