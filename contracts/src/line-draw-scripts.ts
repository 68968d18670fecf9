/**
 * The pre-queue and the opening's draw in Lua. The fan scripts and the step's first half include
 * DRAW_LINE, with KEYS 14..17 of the line scripts: draw, preQueue, preQueueFrozen, preQueueLeft.
 * The draw itself (its order is computed in JavaScript: Redis has no SHA-256) is applied by
 * DRAW_APPLY in chunks, each one short script, and closed by DRAW_FINISH.
 */

export const DRAW_LINE = `
-- The opening freezes the pre-queue: its entries become the draw's, and the arrival numbers the
-- draw will give (base+1 .. base+n) are taken at once, so every later join goes behind them.
-- Whichever comes first after the opening freezes it: a join, a poll or an admission step. O(1).
local function draw_now(now)
  local d = redis.call('HMGET', KEYS[14], 'state', 'opens', 'from', 'base', 'n')
  if d[1] == 'open' and now >= tonumber(d[2]) then
    local n = 0
    if redis.call('EXISTS', KEYS[15]) == 1 then
      redis.call('RENAME', KEYS[15], KEYS[16])
      n = redis.call('HLEN', KEYS[16])
    end
    local base = tonumber(redis.call('GET', KEYS[1]) or '0')
    redis.call('SET', KEYS[1], tostring(base + n))
    redis.call('HSET', KEYS[14], 'state', 'frozen', 'n', tostring(n), 'base', tostring(base), 'applied', '0', 'frozenAt', tostring(now))
    d = {'frozen', d[2], d[3], tostring(base), tostring(n)}
  end
  return d
end
-- The fan's entry ("salt:joinedAt") while it waits for the draw, and the phase: open or drawing.
local function pre_entry(uid, d)
  if d[1] == 'open' then return redis.call('HGET', KEYS[15], uid), 'open' end
  if d[1] == 'frozen' and redis.call('SISMEMBER', KEYS[17], uid) == 0 then return redis.call('HGET', KEYS[16], uid), 'drawing' end
  return false, ''
end
-- Whether a place's arrival number was given by the draw (a pre-queue token, seq 0, stands for it).
local function drawn_place(p, d)
  if not p or not d[4] or not d[5] then return false end
  local seq, base = tonumber(p[2]), tonumber(d[4])
  return seq > base and seq <= base + tonumber(d[5])
end
-- Why a join is not taken yet, or nil: NOT_YET before the pre-queue's start, or before an opening
-- whose draw is not committed (nobody may stand before every fan of the draw); UNSYNCED while the
-- line has not heard from booking and the caller asks it first.
local function join_refusal(d, now, need_known)
  if d[1] == 'open' then
    if now < tonumber(d[3]) then return {'NOT_YET', d[2], d[3]} end
    return nil
  end
  if d[1] then return nil end
  local inv = redis.call('HMGET', KEYS[10], 'known', 'opensAt')
  if inv[1] ~= '1' then
    if need_known then return {'UNSYNCED'} end
  elseif inv[2] and inv[2] ~= '' and tonumber(inv[2]) > now then
    return {'NOT_YET', inv[2], ''}
  end
  return nil
end
local function pre_reply(entry, d, phase, created)
  local salt, joined = string.match(entry, '^(%x+):(%d+)$')
  local count = phase == 'open' and redis.call('HLEN', KEYS[15]) or redis.call('HLEN', KEYS[16])
  return {'PRE_QUEUE', salt, joined, d[2], phase, created, tostring(count)}
end
`

/**
 * Commits the draw's seed (by its hash) before the opening, or moves the opening of a draw still
 * open. KEYS[1] = draw. ARGV: now, opens, from, seed, seedHash. -> COMMITTED | MOVED | the state
 */
export const DRAW_COMMIT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opens', ARGV[2], 'from', ARGV[3], 'seed', ARGV[4], 'seedHash', ARGV[5], 'committedAt', ARGV[1])
  return 'COMMITTED'
end
if state == 'open' then
  redis.call('HSET', KEYS[1], 'opens', ARGV[2], 'from', ARGV[3])
  return 'MOVED'
end
return state
`

/**
 * Takes (or keeps) the draw's lock and says where the draw stands. KEYS: draw, lock.
 * ARGV: owner, lockTtlMs. -> LOCKED | BUSY | NONE, then state, seed, base, n, applied
 */
export const DRAW_LOCK = `
local d = redis.call('HMGET', KEYS[1], 'state', 'seed', 'base', 'n', 'applied')
if d[1] ~= 'frozen' then return {'NONE', d[1] or ''} end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {'BUSY', d[1]} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'LOCKED', d[1], d[2] or '', d[3] or '0', d[4] or '0', d[5] or '0'}
`

/**
 * Applies one chunk of the drawn order: the chunk's places go to the published order, and each
 * fan still in the pre-queue (not left, no other place) joins the line at arrival number
 * base + place. Runs only at the chunk where the last one stopped, so a redo (another instance
 * after this one died) applies nothing twice. KEYS: draw, users, waiting, seen, preQueueLeft,
 * drawOrder, drawLock. ARGV: owner, start, now, lockTtlMs, digest, then userId, entryId, joinedAt
 * for each place from start + 1. -> OK placed | AT applied | LOST | DONE
 */
export const DRAW_APPLY = `
if redis.call('GET', KEYS[7]) ~= ARGV[1] then return {'LOST'} end
local d = redis.call('HMGET', KEYS[1], 'state', 'base', 'applied')
if d[1] ~= 'frozen' then return {'DONE'} end
local start = tonumber(ARGV[2])
if tonumber(d[3]) ~= start then return {'AT', d[3]} end
local base, now = tonumber(d[2]), ARGV[3]
local k, placed = 0, 0
for i = 6, #ARGV, 3 do
  k = k + 1
  local uid, place = ARGV[i], start + k
  local seq = tostring(base + place)
  redis.call('ZADD', KEYS[6], place, ARGV[i + 1])
  if redis.call('SISMEMBER', KEYS[5], uid) == 0 and redis.call('HEXISTS', KEYS[2], uid) == 0 then
    redis.call('HSET', KEYS[2], uid, seq .. ':' .. ARGV[i + 2])
    redis.call('ZADD', KEYS[3], seq, uid)
    redis.call('ZADD', KEYS[4], now, uid)
    placed = placed + 1
  end
end
redis.call('HSET', KEYS[1], 'applied', tostring(start + k), 'digest', ARGV[5])
redis.call('PEXPIRE', KEYS[7], ARGV[4])
return {'OK', tostring(placed)}
`

/**
 * Closes a fully applied draw: the seed is revealed (the state says so), the frozen pre-queue goes,
 * and the published draw is kept for the retention. KEYS: draw, preQueueFrozen, preQueueLeft,
 * drawOrder, drawLock. ARGV: owner, now, retentionMs, digest. -> DRAWN | INCOMPLETE | LOST | the state
 */
export const DRAW_FINISH = `
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return 'LOST' end
local d = redis.call('HMGET', KEYS[1], 'state', 'n', 'applied')
if d[1] ~= 'frozen' then return d[1] or '' end
if tonumber(d[3]) ~= tonumber(d[2]) then return 'INCOMPLETE' end
redis.call('HSET', KEYS[1], 'state', 'drawn', 'drawnAt', ARGV[2], 'digest', ARGV[4])
redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[5])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
return 'DRAWN'
`
