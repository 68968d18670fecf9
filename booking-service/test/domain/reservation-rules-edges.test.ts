import { describe, expect, it } from 'vitest'
import type { Reservation } from '../../src/domain/ports.js'
import { decideAbortPayment, decideBeginPayment, decideConfirmPayment, type LockedSeat } from '../../src/domain/reservation-rules.js'
import { aReservation, type Ask, decide, minutes, NOW, type Operation, PAYING_UNTIL, stored, summary } from '../helpers/reservation-steps.js'

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
