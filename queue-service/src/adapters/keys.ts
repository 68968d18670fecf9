import { queueKeyTag, queueRevocationKey } from '@tickets/shared/queue-token'

/**
 * Every key of one concert's line carries the hash tag `{q:<concertId>}`, so each Lua script touches
 * one Redis Cluster slot and runs unchanged on ioredis `Cluster`. The client adds REDIS_PREFIX.
 */
export function lineKeys(concertId: string) {
  const tag = queueKeyTag(concertId)
  return {
    /** INCR: arrival numbers, the FIFO order shared by every instance. */
    seq: `${tag}:seq`,
    /** ZSET userId -> seq: the line. */
    waiting: `${tag}:waiting`,
    /** ZSET userId -> last poll (ms): finds idle waiters without scanning the line. */
    seen: `${tag}:seen`,
    /** HASH userId -> "seq:joinedAtMs" for everyone waiting or ACTIVE. */
    users: `${tag}:users`,
    /** ZSET userId -> activeUntil (ms). */
    active: `${tag}:active`,
    /** HASH of operator settings: rate, cap, paused, mode. */
    settings: `${tag}:cfg`,
    /** HASH soldOut, at. */
    soldOut: `${tag}:sold`,
    /** HASH tick (last step run), carry, rate (measured admissions per second). */
    stats: `${tag}:stats`,
    revoked: (userId: string) => queueRevocationKey(concertId, userId),
    event: (eventId: string) => `${tag}:evt:${eventId}`,
  }
}

/** The concerts that have a line (a plain key: read alone, never inside a script). */
export const CONCERTS_KEY = 'queue:concerts'
