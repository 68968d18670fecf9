/**
 * The line's atomic operations as Lua. KEYS 1..8 are always, in this order:
 * seq, waiting, seen, users, active, settings, soldOut, stats (all under one hash tag).
 * Numbers are returned as strings: Redis truncates Lua numbers to integers.
 */

const PLACE = `
local function place_of(uid, now)
  local u = redis.call('HGET', KEYS[4], uid)
  if not u then return nil end
  local seq, joined = string.match(u, '^(%d+):(%d+)$')
  local until_ms = redis.call('ZSCORE', KEYS[5], uid)
  if until_ms then
    if tonumber(until_ms) > now then return {'ACTIVE', seq, joined, until_ms, '0'} end
    return {'EXPIRED', seq}
  end
  local rank = redis.call('ZRANK', KEYS[2], uid)
  if rank then return {'WAITING', seq, joined, '', tostring(rank + 1)} end
  return {'GONE', seq}
end
local function rates()
  return redis.call('HGET', KEYS[8], 'rate') or '', redis.call('HGET', KEYS[6], 'rate') or ''
end
`

/** ARGV: userId, now, activeTtlMs. -> status, seq, joinedAt, activeUntil, position, measuredRate, rate, created */
export const JOIN = `${PLACE}
local uid, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('HGET', KEYS[7], 'soldOut') == '1' then return {'SOLD_OUT'} end
local measured, rate = rates()
local p = place_of(uid, now)
if p and (p[1] == 'ACTIVE' or p[1] == 'WAITING') then
  if p[1] == 'WAITING' then redis.call('ZADD', KEYS[3], now, uid) end
  return {p[1], p[2], p[3], p[4], p[5], measured, rate, '0'}
end
if p then
  redis.call('ZREM', KEYS[5], uid)
  redis.call('HDEL', KEYS[4], uid)
end
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[4], uid, seq .. ':' .. ARGV[2])
if redis.call('HGET', KEYS[6], 'mode') == 'let-all' then
  local until_ms = now + ttl
  redis.call('ZADD', KEYS[5], until_ms, uid)
  return {'ACTIVE', tostring(seq), ARGV[2], tostring(until_ms), '0', measured, rate, '1'}
end
redis.call('ZADD', KEYS[2], seq, uid)
redis.call('ZADD', KEYS[3], now, uid)
local rank = redis.call('ZRANK', KEYS[2], uid)
return {'WAITING', tostring(seq), ARGV[2], '', tostring(rank + 1), measured, rate, '1'}
`

/** ARGV: userId, seq, now. -> like JOIN, or EXPIRED / SOLD_OUT */
export const POLL = `${PLACE}
local uid, seq, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('HGET', KEYS[7], 'soldOut') == '1' then return {'SOLD_OUT'} end
local p = place_of(uid, now)
if not p or p[2] ~= seq or (p[1] ~= 'ACTIVE' and p[1] ~= 'WAITING') then return {'EXPIRED'} end
if p[1] == 'WAITING' then redis.call('ZADD', KEYS[3], 'XX', now, uid) end
local measured, rate = rates()
return {p[1], p[2], p[3], p[4], p[5], measured, rate, '0'}
`

/**
 * KEYS[9] = the user's revocation key. Ending an ACTIVE slot records its seq there for as long as
 * any token of it can live, so the gateway refuses the token with one GET.
 */
const END_ACTIVE = `
local function end_active(uid, seq, ttl)
  redis.call('ZREM', KEYS[5], uid)
  redis.call('HDEL', KEYS[4], uid)
  local prev = tonumber(redis.call('GET', KEYS[9]) or '0')
  if tonumber(seq) > prev then redis.call('SET', KEYS[9], seq, 'PX', ttl) end
end
`

/** ARGV: userId, seq, now, activeTtlMs. -> LEFT | ENDED | NONE */
export const LEAVE = `${PLACE}${END_ACTIVE}
local uid, seq, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local p = place_of(uid, now)
if not p or p[2] ~= seq then return 'NONE' end
if p[1] == 'ACTIVE' then
  end_active(uid, seq, ttl)
  return 'ENDED'
end
if p[1] == 'WAITING' then
  redis.call('ZREM', KEYS[2], uid)
  redis.call('ZREM', KEYS[3], uid)
  redis.call('HDEL', KEYS[4], uid)
  return 'LEFT'
end
return 'NONE'
`

/** KEYS[10] = the event's de-duplication key. ARGV: userId, now, activeTtlMs, dedupTtlMs. -> ENDED | NONE | DUPLICATE */
export const END_ACTIVE_ONCE = `${PLACE}${END_ACTIVE}
local uid, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if not redis.call('SET', KEYS[10], '1', 'NX', 'PX', ARGV[4]) then return 'DUPLICATE' end
local p = place_of(uid, now)
if not p or p[1] ~= 'ACTIVE' then return 'NONE' end
end_active(uid, p[2], ttl)
return 'ENDED'
`

/**
 * ARGV: tick, now, tickMs, defaultRate, defaultCap, activeTtlMs, idleMs, batchLimit.
 * -> ran, admitted, expired, droppedOut, waiting, active
 * The tick number in KEYS[8] makes this run once per tick however many instances call it. Costs
 * O(log n) per user admitted, expired or dropped, never a scan of the line.
 */
export const STEP = `
local tick, now, tick_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl, idle, limit = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local last = tonumber(redis.call('HGET', KEYS[8], 'tick') or '-1')
if tick <= last then return {'0', '0', '0', '0', '0', '0'} end
redis.call('HSET', KEYS[8], 'tick', ARGV[1])

local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, limit)
for _, uid in ipairs(expired) do
  redis.call('ZREM', KEYS[5], uid)
  redis.call('HDEL', KEYS[4], uid)
end
local idle_users = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - idle, 'LIMIT', 0, limit)
for _, uid in ipairs(idle_users) do
  redis.call('ZREM', KEYS[2], uid)
  redis.call('ZREM', KEYS[3], uid)
  redis.call('HDEL', KEYS[4], uid)
end

local cfg = redis.call('HMGET', KEYS[6], 'rate', 'cap', 'paused', 'mode')
local rate = tonumber(cfg[1] or ARGV[4])
local cap = tonumber(cfg[2] or ARGV[5])
local halted = cfg[3] == '1' or cfg[4] == 'queue-all' or redis.call('HGET', KEYS[7], 'soldOut') == '1'
local active = redis.call('ZCARD', KEYS[5])
local waiting = redis.call('ZCARD', KEYS[2])
local n = 0
if not halted and waiting > 0 then
  if cfg[4] == 'let-all' then
    n = math.min(waiting, limit)
  else
    local allowance = rate * tick_ms / 1000 + tonumber(redis.call('HGET', KEYS[8], 'carry') or '0')
    local whole = math.floor(allowance)
    redis.call('HSET', KEYS[8], 'carry', tostring(allowance - whole))
    n = math.max(0, math.min(whole, cap - active, waiting, limit))
  end
  if n > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[2], n)
    local until_ms = now + ttl
    for i = 1, #popped, 2 do
      redis.call('ZADD', KEYS[5], until_ms, popped[i])
      redis.call('ZREM', KEYS[3], popped[i])
    end
  end
  -- measured only while people wait: an empty line says nothing about how fast it moves
  local measured = n * 1000 / tick_ms
  local prev = tonumber(redis.call('HGET', KEYS[8], 'rate') or '')
  if prev then measured = 0.3 * measured + 0.7 * prev end
  redis.call('HSET', KEYS[8], 'rate', tostring(measured))
end
return {'1', tostring(n), tostring(#expired), tostring(#idle_users), tostring(waiting - n), tostring(active + n)}
`

/** KEYS[1] = soldOut hash. ARGV: '1' | '0', at (ms). -> 1 applied, 0 older than the last change */
export const SET_SOLD_OUT = `
local at = tonumber(ARGV[2])
local prev = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if at < prev then return 0 end
redis.call('HSET', KEYS[1], 'soldOut', ARGV[1], 'at', ARGV[2])
return 1
`
