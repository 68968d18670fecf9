import { LUA_DIR } from './line-fan-scripts.js'
import { luaScript } from './lua-script.js'

/**
 * The inventory scripts, on lib/holds.lua. Events may come twice or out of order (one durable
 * consumer per subject): an ended reservation is remembered for a while, so a late "held" cannot
 * bring it back and a repeated end changes nothing.
 */
const INVENTORY_KEYS = ['inventory', 'holds', 'holders', 'userHolds', 'endedConfirmed', 'endedReleased', 'endedRefunded'] as const
const HOLDS_LUA = 'lib/holds.lua'

/** `until` and `occurredAt` in ms. */
export const INVENTORY_HELD = luaScript(LUA_DIR, {
  command: 'queueInventoryHeld',
  files: [HOLDS_LUA, 'inventory-held.lua'],
  keys: INVENTORY_KEYS,
  argv: ['reservationId', 'userId', 'until', 'occurredAt'],
  reply: { oneOf: ['APPLIED', 'DUPLICATE', 'STALE'] },
})

/**
 * `endedSet`: the KEYS number of the ended set (keyNumber). An end is forgotten after
 * `forgetBefore` (ms). A sale or refund older than the last resync is already in its counts.
 */
export const INVENTORY_ENDED = luaScript(LUA_DIR, {
  command: 'queueInventoryEnded',
  files: [HOLDS_LUA, 'inventory-ended.lua'],
  keys: INVENTORY_KEYS,
  argv: ['endedSet', 'reservationId', 'occurredAt', 'forgetBefore'],
  reply: { oneOf: ['APPLIED', 'DUPLICATE'] },
})

/**
 * Replaces the counts and holds with booking's snapshot taken at asOf, keeping what events said
 * since: sales and refunds that occurred after asOf, holds taken after asOf, and ends of holds that
 * the snapshot still lists. `opensAt` '' if none; the snapshot's holds follow.
 */
export const INVENTORY_SNAPSHOT = luaScript(LUA_DIR, {
  command: 'queueInventorySnapshot',
  files: [HOLDS_LUA, 'inventory-snapshot.lua'],
  keys: INVENTORY_KEYS,
  argv: ['asOf', 'total', 'sold', 'opensAt', 'syncedAt'],
  each: ['reservationId', 'userId', 'until'],
  reply: { integer: 'holds kept' },
})
