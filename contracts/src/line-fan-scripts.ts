import { luaScript } from './lua-script.js'

/**
 * The line's atomic operations in Lua (contracts/lua/): a fan's moves (join, poll, leave) and the
 * end of an ACTIVE slot. Every line script takes LINE_KEYS first (all under one hash tag), named
 * as in lineKeys(). Numbers are returned as strings: Redis truncates Lua numbers to integers.
 */
export const LUA_DIR = new URL('../lua/', import.meta.url)

export const LINE_KEYS = [
  'seq',
  'waiting',
  'seen',
  'users',
  'active',
  'settings',
  'soldOut',
  'stats',
  'seenActive',
  'inventory',
  'holds',
  'holders',
  'userHolds',
  'draw',
  'preQueue',
  'preQueueFrozen',
  'preQueueLeft',
] as const

// A place: after its status, what the line says besides it (rates, why it stands still, the seats
// it may still sell), whether this call created it, when a hold's end could admit it, the polls'
// spread (s), whether a presale code gave it, and the opening a presale place waits for (or '').
const PLACE_FIELDS = [
  'seq',
  'joinedAt',
  'activeUntil',
  'position',
  'measuredRate',
  'deviation',
  'effectiveRate',
  'rate',
  'reason',
  'seatsOnHold',
  'nextReleaseAt',
  'free',
  'held',
  'created',
  'releaseForPosition',
  'spreadSeconds',
  'presale',
  'opensAt',
] as const

/**
 * What the fan scripts answer, by the reply's first field. A pre-queue entry's phase is open or
 * drawing; NOT_YET gives the opening and the pre-queue's start (empty while no draw is committed);
 * UNSYNCED: the line has not heard from booking. JOIN never answers EXPIRED, POLL never NOT_YET or
 * UNSYNCED.
 */
export const FAN_REPLY = {
  WAITING: PLACE_FIELDS,
  ACTIVE: PLACE_FIELDS,
  PRE_QUEUE: ['salt', 'joinedAt', 'opensAt', 'phase', 'created', 'preQueued'],
  NOT_YET: ['opensAt', 'preQueueOpensAt'],
  UNSYNCED: [],
  SOLD_OUT: [],
  EXPIRED: [],
} as const

/** Fragments: place_of and reply; the pre-queue and the draw's freeze; the end of an ACTIVE slot. */
export const PLACE_LUA = 'lib/place.lua'
export const DRAW_LINE_LUA = 'lib/draw-line.lua'
export const END_ACTIVE_LUA = 'lib/end-active.lua'

/** `salt` is a new pre-queue entry's; `needKnown` '1' refuses (UNSYNCED) while the line does not know its opening. */
export const JOIN = luaScript(LUA_DIR, {
  command: 'queueJoin',
  files: [PLACE_LUA, DRAW_LINE_LUA, 'join.lua'],
  keys: LINE_KEYS,
  argv: ['userId', 'now', 'activeTtlMs', 'overbook', 'salt', 'needKnown'],
  reply: FAN_REPLY,
})

/** A poll is a sign of life. seq 0 is a pre-queue token: PRE_QUEUE until the draw placed the fan, then the drawn place. */
export const POLL = luaScript(LUA_DIR, {
  command: 'queuePoll',
  files: [PLACE_LUA, DRAW_LINE_LUA, 'poll.lua'],
  keys: LINE_KEYS,
  argv: ['userId', 'seq', 'now', 'overbook'],
  reply: FAN_REPLY,
})

/**
 * Ending an ACTIVE slot records its seq under the user's revocation key for as long as any token
 * of it can live, so the gateway refuses the token with one GET. The key shares the line's hash tag.
 * seq 0 leaves the pre-queue, or the place the draw gave.
 */
export const LEAVE = luaScript(LUA_DIR, {
  command: 'queueLeave',
  files: [PLACE_LUA, END_ACTIVE_LUA, DRAW_LINE_LUA, 'leave.lua'],
  keys: [...LINE_KEYS, 'revoked'],
  argv: ['userId', 'seq', 'now', 'activeTtlMs'],
  reply: { oneOf: ['LEFT', 'ENDED', 'NONE'] },
})

/** Ends an ACTIVE slot once per event (`event`: the de-duplication key, kept `dedupTtlMs`). */
export const END_ACTIVE_ONCE = luaScript(LUA_DIR, {
  command: 'queueEndActiveOnce',
  files: [PLACE_LUA, END_ACTIVE_LUA, 'end-active-once.lua'],
  keys: [...LINE_KEYS, 'revoked', 'event'],
  argv: ['userId', 'now', 'activeTtlMs', 'dedupTtlMs'],
  reply: { oneOf: ['ENDED', 'NONE', 'DUPLICATE'] },
})
