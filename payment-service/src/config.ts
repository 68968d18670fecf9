import { listenerPortProperties, mariadbServiceConfigProperties } from '@tickets/shared/config'
import { Type, type Static } from 'typebox'

export const ConfigSchema = Type.Object({
  ...mariadbServiceConfigProperties,
  ...listenerPortProperties(3003, 9083),
  /** No wallet may hold more than this; a charge that would pass it is refused. */
  POINTS_MAX_BALANCE: Type.Integer({ minimum: 1, default: 100_000_000 }),
  /** How long payment waits for booking to answer BEGIN/CONFIRM/ABORT over NATS. */
  BOOKING_RPC_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 3_000 }),
  /** A BEGIN/CONFIRM/ABORT unanswered this long is sent once more (the booking instance that took it may have died). */
  BOOKING_RPC_ATTEMPT_MS: Type.Integer({ minimum: 50, default: 700 }),
  /**
   * Payments one instance runs at once; the next is a 503 at once. 0: four times MYSQL_POOL_SIZE (at
   * once the pool size, the ticket-open run refused 11 payments in its opening burst).
   */
  PAYMENTS_UNDER_WAY_MAX: Type.Integer({ minimum: 0, default: 0 }),
  /** Idempotency keys are kept at least 24 hours (the public contract). */
  IDEMPOTENCY_TTL_SECONDS: Type.Integer({ minimum: 86_400, default: 86_400 }),
  /** A request holding a key longer than this is presumed dead and its key may be taken over. */
  IDEMPOTENCY_LEASE_MS: Type.Integer({ minimum: 1_000, default: 60_000 }),
  IDEMPOTENCY_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 1_000, default: 600_000 }),
  /** Unacked consumer messages come back after this long (a consumer that died mid-message). */
  CONSUMER_ACK_WAIT_MS: Type.Integer({ minimum: 500, default: 30_000 }),
  OUTBOX_POLL_MS: Type.Integer({ minimum: 10, default: 250 }),
})
export type Config = Static<typeof ConfigSchema>
