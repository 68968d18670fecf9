import { DRAW_LINE_LUA, END_ACTIVE_LUA, LINE_KEYS, LUA_DIR } from './line-fan-scripts.js'
import { luaScript } from './lua-script.js'

/**
 * The first half of an admission step: expires, drops the idle, and reports what the second half
 * decides from (`ran` '0': another instance ran this tick already; the tick number in stats makes it
 * run once per tick however many instances call it). The opening freezes the pre-queue here if
 * nothing did before. `revocationKeyPrefix` carries the client's prefix: the key is built in Lua.
 * `preQueueWindowS` is the concert's own pre-queue window ('' for the default). Costs O(log n) per
 * user expired or released, plus one look per holder, never a scan of the line.
 */
export const STEP_PREPARE = luaScript(LUA_DIR, {
  command: 'queueStepPrepare',
  files: [END_ACTIVE_LUA, DRAW_LINE_LUA, 'step-prepare.lua'],
  keys: LINE_KEYS,
  argv: ['tick', 'now', 'waitingIdleMs', 'activeIdleMs', 'batchLimit', 'revocationKeyPrefix', 'activeTtlMs'],
  reply: [
    'ran',
    'expired',
    'droppedOut',
    'idleReleased',
    'waiting',
    'active',
    'activeHolding',
    'cfgRate',
    'cfgCap',
    'paused',
    'mode',
    'soldOut',
    'carry',
    'known',
    'total',
    'sold',
    'opensAt',
    'syncedAt',
    'onHold',
    'nextReleaseAt',
    'drawState',
    'drawOpens',
    'drawFrom',
    'preQueueWindowS',
  ],
})

/**
 * The second half: admits `n` from the front of the line and records what polls report, and the
 * summary the gateway answers polls far back in line from (LINE_SUMMARY_FIELDS). `cap` -1: none;
 * checked again, since joins and leaves may have run since the first half. `why`: what limited the
 * rate; `health`: why it is backed off; `free` and `held` seats ('' unknown); then the line's
 * settings fans' answers need. `waitingTokenTtlS` and `spreadSeconds` are in seconds.
 */
export const STEP_ADMIT = luaScript(LUA_DIR, {
  command: 'queueStepAdmit',
  files: ['step-admit.lua'],
  keys: [...LINE_KEYS, 'summary'],
  argv: [
    'n',
    'now',
    'activeTtlMs',
    'tickMs',
    'cap',
    'carry',
    'effectiveRate',
    'why',
    'reason',
    'onHold',
    'nextReleaseAt',
    'health',
    'free',
    'held',
    'overbook',
    'defaultRate',
    'waitingTokenTtlS',
    'spreadSeconds',
  ],
  reply: ['admitted', 'waiting', 'active'],
})

/** `soldOut` '1' | '0'; `at` (ms): a change older than the last one is not applied. -> 1 applied, 0 not. */
export const SET_SOLD_OUT = luaScript(LUA_DIR, {
  command: 'queueSetSoldOut',
  files: ['set-sold-out.lua'],
  keys: ['soldOut'],
  argv: ['soldOut', 'at'],
  reply: { integer: '1 applied, 0 older than the last change' },
})
