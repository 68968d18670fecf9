import { DRAW_LINE_LUA, FAN_REPLY, LINE_KEYS, LUA_DIR, PLACE_LUA } from './line-fan-scripts.js'
import { luaScript } from './lua-script.js'

/**
 * A join with a presale code (its hash: see presale.ts): like JOIN, or the code's refusal
 * (CODE_OTHER: the user redeemed another code).
 *
 * A fan already ACTIVE, or in the presale line, keeps their place and redeems nothing. Otherwise a
 * valid code leaves the pre-queue or the general line for a presale place; a bypass code, once the
 * sale is open, makes the fan ACTIVE at once (as let-all would). The use is counted in the same
 * script that checks it, so no race redeems a code beyond its uses. A user who redeemed the code
 * before (their place since ended) joins again with it without another use.
 *
 * Presale places sort before every other place of the line: their score in `waiting` is their
 * arrival number less 10^12, so the admission step's ZPOPMIN takes them first, in the order they
 * joined, and ZRANK counts them in every general fan's position. Arrival numbers stay far below it;
 * scores stay exact integers (written with %.0f: Lua's own tostring keeps 14 digits).
 */
export const PRESALE_JOIN = luaScript(LUA_DIR, {
  command: 'queuePresaleJoin',
  files: [PLACE_LUA, DRAW_LINE_LUA, 'presale-join.lua'],
  keys: [...LINE_KEYS, 'presaleCode', 'presaleUsers'],
  argv: ['userId', 'now', 'activeTtlMs', 'overbook', 'codeHash', 'needKnown'],
  reply: { ...FAN_REPLY, CODE_WRONG: [], CODE_OUTSIDE: ['from', 'to'], CODE_SPENT: [], CODE_OTHER: [] },
})

/** Creates one code, never overwriting a hash that exists. `bypass` '1' | '0'; `keep` (ms): kept until. */
export const PRESALE_CREATE = luaScript(LUA_DIR, {
  command: 'queuePresaleCreate',
  files: ['presale-create.lua'],
  keys: ['presaleCode', 'presaleCodes'],
  argv: ['codeHash', 'uses', 'from', 'to', 'bypass', 'keep'],
  reply: { integer: '1 created, 0 the hash exists already' },
})
