import { LUA_DIR } from './line-fan-scripts.js'
import { luaScript } from './lua-script.js'

/**
 * The opening's draw in Lua. The pre-queue itself is kept by the fan scripts and the step's first
 * half (lib/draw-line.lua). The draw's order is computed in JavaScript (Redis has no SHA-256) and
 * applied by DRAW_APPLY in chunks, each one short script, then closed by DRAW_FINISH. The made draw
 * is kept as records (draw-records.ts), which DRAW_PLACE reads.
 */

/** Commits the draw's seed (by its hash) before the opening, or moves the opening of a draw still open. */
export const DRAW_COMMIT = luaScript(LUA_DIR, {
  command: 'queueDrawCommit',
  files: ['draw-commit.lua'],
  keys: ['draw'],
  argv: ['now', 'opens', 'from', 'seed', 'seedHash'],
  reply: { oneOf: ['COMMITTED', 'MOVED', 'frozen', 'drawn'] },
})

/** Takes (or keeps) the draw's lock for `owner` and says where the draw stands. */
export const DRAW_LOCK = luaScript(LUA_DIR, {
  command: 'queueDrawLock',
  files: ['draw-lock.lua'],
  keys: ['draw', 'drawLock'],
  argv: ['owner', 'lockTtlMs'],
  reply: { LOCKED: ['state', 'seed', 'base', 'entries', 'applied'], BUSY: ['state'], NONE: ['state'] },
})

/**
 * Applies one chunk of the drawn order: `ids` (the chunk's places, ENTRY_ID_BYTES each) go to the
 * published order and `places` (as many place records, the chunk's stretch of them by entry id) to
 * drawPlaces, and each fan still in the pre-queue (not left, no other place) joins the line at
 * arrival number base + place. Runs only at the chunk where the last one stopped, so a redo
 * (another instance after this one died) applies nothing twice. The fans follow, from start + 1.
 */
export const DRAW_APPLY = luaScript(LUA_DIR, {
  command: 'queueDrawApply',
  files: ['draw-apply.lua'],
  keys: ['draw', 'users', 'waiting', 'seen', 'preQueueLeft', 'drawOrder', 'drawPlaces', 'drawLock'],
  argv: ['owner', 'start', 'now', 'lockTtlMs', 'digest', 'ids', 'places'],
  each: ['userId', 'joinedAt'],
  reply: { OK: ['placed'], AT: ['applied'], LOST: [], DONE: [] },
})

/**
 * Closes a fully applied draw: the seed is revealed (the state says so), the frozen pre-queue goes,
 * and the published draw is kept for the retention. Any other state is returned as it is.
 */
export const DRAW_FINISH = luaScript(LUA_DIR, {
  command: 'queueDrawFinish',
  files: ['draw-finish.lua'],
  keys: ['draw', 'preQueueFrozen', 'preQueueLeft', 'drawOrder', 'drawPlaces', 'drawLock'],
  argv: ['owner', 'now', 'retentionMs', 'digest'],
  reply: { oneOf: ['DRAWN', 'INCOMPLETE', 'LOST', 'open', 'drawn', ''] },
})

/** One entry's place (1-based) in a made draw, 0 when it is not in it; `recordBytes`: PLACE_RECORD_BYTES. */
export const DRAW_PLACE = luaScript(LUA_DIR, {
  command: 'queueDrawPlace',
  files: ['draw-place.lua'],
  keys: ['drawPlaces'],
  argv: ['entryId', 'recordBytes'],
  reply: { integer: 'place' },
})
