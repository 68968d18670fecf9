import { queueLineSummaryKey, queueWaitingSeenKey } from './queue-line.js'
import { queueActivityKey, queueKeyTag, queueRevocationKey } from './queue-token.js'

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
    /** ZSET userId -> last poll (ms): finds idle waiters without scanning the line; the gateway adds the polls it answered. */
    seen: queueWaitingSeenKey(concertId),
    /** HASH userId -> "seq:joinedAtMs" for everyone waiting or ACTIVE. */
    users: `${tag}:users`,
    /** ZSET userId -> activeUntil (ms). */
    active: `${tag}:active`,
    /** HASH of operator settings: rate, cap, paused, mode, pqw (the pre-queue window, seconds). */
    settings: `${tag}:cfg`,
    /** HASH soldOut, at. */
    soldOut: `${tag}:sold`,
    /**
     * HASH of the last step: tick, carry, rate and dev (measured admissions per second and its mean
     * deviation), eff (effective rate), why (what limited it), reason, onhold, nextrel (what polls say).
     */
    stats: `${tag}:stats`,
    /** ZSET userId -> last sign of life (ms) of ACTIVE users; the gateway adds its batched sightings. */
    seenActive: queueActivityKey(concertId),
    /** HASH: what the last step left for the gateway to answer polls far back in line from. */
    summary: queueLineSummaryKey(concertId),
    /** HASH known, total, sold, asOf (last resync, booking's clock), opensAt, syncedAt (our clock). */
    inventory: `${tag}:inv`,
    /** ZSET reservationId -> hold deadline (ms): the live holds. */
    holds: `${tag}:holds`,
    /** HASH reservationId -> "userId:heldAtMs". */
    holders: `${tag}:holders`,
    /** HASH userId -> number of live holds (absent when none). */
    userHolds: `${tag}:uholds`,
    /** ZSETs reservationId -> occurredAt (ms) of applied confirmations, releases and refunds: duplicates and late holds are told apart by them. */
    endedConfirmed: `${tag}:end:c`,
    endedReleased: `${tag}:end:e`,
    endedRefunded: `${tag}:end:r`,
    /**
     * HASH of the opening's draw: state (open | frozen | drawn), opens and from (the opening and the
     * pre-queue's start, ms), seed (secret until drawn), seedHash, committedAt, frozenAt, n (entries),
     * base (the arrival number before the first drawn place), applied (places applied), digest, drawnAt.
     */
    draw: `${tag}:draw`,
    /** HASH userId -> "salt:joinedAtMs": the pre-queue while it is open. */
    preQueue: `${tag}:pq`,
    /** HASH: the pre-queue as the opening froze it (the draw's entries). */
    preQueueFrozen: `${tag}:pq:frozen`,
    /** SET of users who left the frozen pre-queue before the draw placed them. */
    preQueueLeft: `${tag}:pq:left`,
    /** STRING: the published order, entry ids first drawn first (draw-records.ts). */
    drawOrder: `${tag}:draw:ids`,
    /** STRING: each entry's place, by entry id (draw-records.ts). */
    drawPlaces: `${tag}:draw:places`,
    /** STRING: the instance applying the draw. */
    drawLock: `${tag}:draw:lock`,
    /**
     * HASH of one presale code, by the SHA-256 of the code (hex): uses, used (users who redeemed
     * it), from and to (its window, ms), bypass ('1': admitted at once), keep (ms: kept until).
     */
    presaleCode: (codeHash: string) => `${tag}:presale:code:${codeHash}`,
    /** SET of the concert's code hashes (for the report). */
    presaleCodes: `${tag}:presale:codes`,
    /** HASH userId -> the hash of the code they redeemed: one code per user and concert. */
    presaleUsers: `${tag}:presale:users`,
    revoked: (userId: string) => queueRevocationKey(concertId, userId),
    event: (eventId: string) => `${tag}:evt:${eventId}`,
  }
}

/** The concerts that have a line (a plain key: read alone, never inside a script). */
export const CONCERTS_KEY = 'queue:concerts'
