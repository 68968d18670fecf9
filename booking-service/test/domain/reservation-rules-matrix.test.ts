import { describe, expect, it } from 'vitest'
import type { ReservationStatus } from '../../src/domain/ports.js'
import { decide, type Operation, STATUSES, stored, summary } from '../helpers/reservation-steps.js'

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
