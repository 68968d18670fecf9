import { gatewayTrustConfigProperties, authConfigProperties, commonConfigProperties, redisConfigProperties } from '@tickets/shared/config'
import { Type, type Static } from 'typebox'

export const ConfigSchema = Type.Object({
  ...commonConfigProperties,
  ...redisConfigProperties,
  ...gatewayTrustConfigProperties,
  ...authConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  /** The admin listener's port (readiness, dependency health, metrics), on ADMIN_HOST. */
  ADMIN_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9081 }),
  /**
   * Admissions per second per concert, unless an operator set another rate for that concert. The
   * default is what the money path of `npm start` on two cores serves with its p95 under 200 ms:
   * docs/decisions/admission-rate-sized-to-the-money-path.md.
   */
  ADMISSION_RATE_PER_SECOND: Type.Number({ minimum: 0, default: 10 }),
  /** Most users ACTIVE at once per concert, unless an operator set another cap for that concert. */
  ACTIVE_CAP: Type.Integer({ minimum: 0, default: 500 }),
  /** One admission step per concert per tick, across all instances. */
  ADMISSION_TICK_MS: Type.Integer({ minimum: 100, default: 1_000 }),
  ACTIVE_TTL_SECONDS: Type.Integer({ minimum: 10, default: 600 }),
  /** An ACTIVE user who holds no seat and sent nothing through the gateway for this long loses the slot. */
  ACTIVE_IDLE_SECONDS: Type.Integer({ minimum: 5, default: 90 }),
  /** Non-holding ACTIVE fans per free seat: admission stops at free seats x this. */
  ADMISSION_OVERBOOK: Type.Number({ minimum: 0, default: 1.5 }),
  /** A concert's inventory is taken again from booking at least this often, whatever the events said. */
  INVENTORY_RESYNC_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
  /** A hold still counted this long after its deadline means a missed event: resync at once. */
  INVENTORY_OVERDUE_SECONDS: Type.Integer({ minimum: 1, default: 15 }),
  INVENTORY_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 1_000 }),
  /** Admission backs off while holds (booking) or payments are slower than this at p95. */
  BACKOFF_HOLD_P95_MS: Type.Integer({ minimum: 1, default: 200 }),
  BACKOFF_PAY_P95_MS: Type.Integer({ minimum: 1, default: 300 }),
  /** The lowest share of the rate that back-off leaves. */
  BACKOFF_MIN_FACTOR: Type.Number({ minimum: 0.01, maximum: 1, default: 0.1 }),
  /** Added back to the factor per second once every service is healthy. */
  BACKOFF_RECOVERY_PER_SECOND: Type.Number({ minimum: 0.001, maximum: 1, default: 0.1 }),
  /** A pressure report older than this is ignored (the instance stopped reporting). */
  PRESSURE_MAX_AGE_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** The share of what the gateways report they can answer that waiting fans' polls may use; the rest is for joins and buyers. */
  POLL_CAPACITY_SHARE: Type.Number({ minimum: 0.05, maximum: 1, default: 0.5 }),
  /** A waiting user who has not polled (or re-joined) for this long drops out of line. */
  WAITING_IDLE_TIMEOUT_SECONDS: Type.Integer({ minimum: 5, default: 300 }),
  WAITING_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, default: 86_400 }),
  /** How long before a concert's opening its pre-queue opens: fans who join in it are placed by a draw at the opening. */
  PRE_QUEUE_WINDOW_SECONDS: Type.Integer({ minimum: 0, default: 1_800 }),
  /** How long a made draw (its seed, entries and order) stays published. */
  DRAW_RETENTION_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  /** A Redis call slower than this answers 503 QUEUE_UNAVAILABLE instead of hanging the request. */
  QUEUE_REDIS_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 150 }),
  /** How long booking's answer about a concert (exists, sold out) is kept in memory. */
  CONCERT_STATUS_CACHE_MS: Type.Integer({ minimum: 0, default: 5_000 }),
  CONCERT_STATUS_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 250 }),
})
export type Config = Static<typeof ConfigSchema>
