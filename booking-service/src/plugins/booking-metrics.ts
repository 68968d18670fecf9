import { Counter, Gauge, type Registry } from 'prom-client'
import type { BookingMetrics, Clock, SeatStore } from '../domain/ports.js'

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

const PAST_DEADLINE_LIMIT = 10_000
const PAST_DEADLINE_CACHE_MS = 5_000

/**
 * booking_holds_past_deadline: seats still HELD or PAYING after their deadline, i.e. what the
 * expiry sweeper has not released (HoldsPastDeadline). Read on scrape, at most every 5 s.
 */
export function registerHoldMetrics(registry: Registry, seats: Pick<SeatStore, 'holdsPastDeadline'>, clock: Clock): void {
  let cache = { at: 0, count: 0 }
  async function read() {
    if (Date.now() - cache.at < PAST_DEADLINE_CACHE_MS) return cache
    cache = { at: Date.now(), count: await seats.holdsPastDeadline(clock.now(), PAST_DEADLINE_LIMIT) }
    return cache
  }
  new Gauge({
    name: 'booking_holds_past_deadline',
    help: `Seats HELD or PAYING past their deadline and not yet released by the sweeper (counted up to ${PAST_DEADLINE_LIMIT})`,
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => cache)).count)
    },
  })
}
