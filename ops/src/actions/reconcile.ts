import type { Action } from '../action.js'
import { readPaymentFacts, type PaymentRecord } from '@tickets/payment-service/ops'
import { readBookingFacts, type ReservationRecord } from './booking-facts.js'

export interface ReconcileOptions {
  bookingUrl: string
  paymentUrl: string
  /** A completed payment may wait this long for its reservation to be confirmed (booking's PAYING deadline plus relays). */
  confirmWindowSeconds?: number
  /** The expiry sweeper may lag this much behind a deadline. */
  holdGraceSeconds?: number
  outboxMaxAgeSeconds?: number
}

/** Cross-checks payments against reservations; pure, so the rules are tested without databases. */
export function crossCheck(reservations: ReservationRecord[], payments: PaymentRecord[], confirmWindowSeconds: number): string[] {
  const violations: string[] = []
  const byReservation = new Map<string, PaymentRecord[]>()
  for (const p of payments) {
    if (p.status !== 'COMPLETED') continue
    byReservation.set(p.reservationId, [...(byReservation.get(p.reservationId) ?? []), p])
  }
  const reservationById = new Map(reservations.map((r) => [r.reservationId, r]))
  for (const r of reservations) {
    if (r.status !== 'CONFIRMED') continue
    const completed = byReservation.get(r.reservationId) ?? []
    if (completed.length !== 1) {
      violations.push(`reservation ${r.reservationId} is CONFIRMED with ${completed.length} completed payments (expected exactly one)`)
      continue
    }
    const p = completed[0]!
    if (p.amount !== r.price) violations.push(`reservation ${r.reservationId} costs ${r.price} but payment ${p.paymentId} charged ${p.amount}`)
    if (p.userId !== r.userId) violations.push(`reservation ${r.reservationId} belongs to user ${r.userId} but payment ${p.paymentId} charged user ${p.userId}`)
    if (r.paymentId && r.paymentId !== p.paymentId) violations.push(`reservation ${r.reservationId} was confirmed by payment ${r.paymentId} but payment ${p.paymentId} stands`)
  }
  for (const [reservationId, completed] of byReservation) {
    if (completed.length > 1) violations.push(`reservation ${reservationId} has ${completed.length} completed payments: ${completed.map((p) => p.paymentId).join(', ')}`)
    const r = reservationById.get(reservationId)
    if (r?.status === 'CONFIRMED') continue
    for (const p of completed) {
      if (p.ageSeconds <= confirmWindowSeconds) continue
      violations.push(
        `payment ${p.paymentId} charged ${p.amount} for reservation ${reservationId} which is ${r ? r.status : 'unknown to booking'} after ${p.ageSeconds} s (not refunded)`,
      )
    }
  }
  return violations
}

export async function reconcile(opts: ReconcileOptions) {
  const outboxMaxAgeSeconds = opts.outboxMaxAgeSeconds ?? 60
  // Payments first: a payment committing between the two reads is then seen with its reservation
  // at worst still PAYING, which the confirmation window covers.
  const payment = await readPaymentFacts(opts.paymentUrl, { outboxMaxAgeSeconds })
  const booking = await readBookingFacts(opts.bookingUrl, { holdGraceSeconds: opts.holdGraceSeconds ?? 30, outboxMaxAgeSeconds })
  const violations = [...payment.violations, ...booking.violations, ...crossCheck(booking.reservations, payment.payments, opts.confirmWindowSeconds ?? 300)]
  return { violations, checked: { wallets: payment.wallets, payments: payment.payments.length, reservations: booking.reservations.length } }
}

function numberArg(args: string[], name: string): number | undefined {
  const i = args.indexOf(name)
  if (i < 0) return undefined
  const n = Number(args[i + 1])
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} takes a number of seconds`)
  return n
}

export const reconcileActions: Record<string, Action> = {
  reconcile: {
    describe: 'check money and seats across both databases; non-zero exit naming each violation [--window-seconds 300]',
    async run(args, env) {
      const windowSeconds = numberArg(args, '--window-seconds')
      const result = await reconcile({
        bookingUrl: env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking',
        paymentUrl: env.PAYMENT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_payment',
        ...(windowSeconds === undefined ? {} : { confirmWindowSeconds: windowSeconds }),
      })
      const { wallets, payments, reservations } = result.checked
      if (result.violations.length === 0) {
        console.log(`reconcile: OK (${wallets} wallets, ${payments} payments, ${reservations} reservations)`)
        return 0
      }
      for (const v of result.violations) console.error(`VIOLATION ${v}`)
      console.error(`reconcile: ${result.violations.length} violation(s) in ${wallets} wallets, ${payments} payments, ${reservations} reservations`)
      return 1
    },
  },
}
