import { Counter, type Registry } from 'prom-client'
import type { BookingMetrics } from '../domain/ports.js'

/** The booking counters (the manual's "how many holds, conflicts, expiries, sales" questions). */
export function createBookingMetrics(registry: Registry): BookingMetrics {
  const holds = new Counter({ name: 'booking_holds_total', help: 'Seats held', registers: [registry] })
  const conflicts = new Counter({ name: 'booking_hold_conflicts_total', help: 'Holds refused: seat taken or per-user cap reached', labelNames: ['reason'], registers: [registry] })
  const expiries = new Counter({ name: 'booking_hold_expiries_total', help: 'Holds released because their deadline passed', registers: [registry] })
  const confirmations = new Counter({ name: 'booking_confirmations_total', help: 'Reservations confirmed (seat sold)', registers: [registry] })
  return {
    held: () => holds.inc(),
    conflict: (reason) => conflicts.inc({ reason }),
    expired: (count) => expiries.inc(count),
    confirmed: () => confirmations.inc(),
  }
}
