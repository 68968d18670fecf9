import { luaScript } from '@tickets/contracts/lua-script'

const LUA_DIR = new URL('../../lua/', import.meta.url)

/**
 * Fixed window: the first hit of a window sets its expiry; a key left without one (a crash between
 * the two calls in an older script) gets it again instead of counting forever.
 */
export const INCR_WINDOW = luaScript(LUA_DIR, {
  command: 'incrWindow',
  files: ['incr-rate-window.lua'],
  keys: ['window'],
  argv: ['windowMs'],
  reply: ['hits', 'ttlMs'],
})

/**
 * Adds the hits this instance took since the last sync to each window; the first hit of a window
 * sets its expiry. Replies with each window's total across every instance and the time it has left.
 * Declared for one window (what a cluster client needs: it routes a command by its first key); the
 * same text takes a batch of windows of one length: N keys, then windowMs and N hits, replying N pairs.
 */
export const ADD_HITS = luaScript(LUA_DIR, {
  command: 'addRateHitsOfKey',
  files: ['add-rate-hits.lua'],
  keys: ['window'],
  argv: ['windowMs'],
  each: ['hits'],
  reply: ['hits', 'ttlMs'],
})
