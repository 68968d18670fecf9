import { listenerPortProperties, mariadbServiceConfigProperties } from '@tickets/shared/config'
import { Type, type Static } from 'typebox'

export const ConfigSchema = Type.Object({
  ...mariadbServiceConfigProperties,
  ...listenerPortProperties(3002, 9082),
  /** How long a hold lasts before the seat goes back. */
  HOLD_TTL_SECONDS: Type.Integer({ minimum: 1, default: 300 }),
  /** How long a payment has, once begun, to confirm; the sweeper leaves a PAYING seat alone until then. */
  PAYING_TTL_SECONDS: Type.Integer({ minimum: 1, default: 120 }),
  /** Live holds one user may have on one schedule. */
  HOLD_LIMIT_PER_USER: Type.Integer({ minimum: 1, default: 4 }),
  /** How often the expiry sweeper looks for holds past their deadline (0 turns it off). */
  SWEEP_INTERVAL_MS: Type.Integer({ minimum: 0, default: 1_000 }),
  /** A schedule's opening time and seat prices, as holds use them, are kept in memory this long: a change in the database applies within it. */
  SCHEDULE_INFO_TTL_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  /** Concert list and schedule dates change rarely: cached this long (warm-cache fills them). */
  CATALOGUE_CACHE_TTL_SECONDS: Type.Integer({ minimum: 1, default: 600 }),
  /** availableSeats is cached this long, so it is never more than a second behind the seats. */
  AVAILABILITY_CACHE_TTL_MS: Type.Integer({ minimum: 50, maximum: 1_000, default: 800 }),
  /**
   * payment.payment.completed is handled no sooner than this after it occurred: payment's CONFIRM,
   * sent at the same moment, has usually confirmed the reservation by then, and the event needs no
   * transaction (instead of a second one queued on the seat's lock).
   */
  PAYMENT_EVENT_SETTLE_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 1_000 }),
  /** Consumers of payment and reservation events (off in tests that drive one piece alone). */
  CONSUMERS_ENABLED: Type.Boolean({ default: true }),
})
export type Config = Static<typeof ConfigSchema>
