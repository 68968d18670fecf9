/**
 * The line's atomic operations as Lua. KEYS 1..13 of the line scripts are always, in this order:
 * seq, waiting, seen, users, active, settings, soldOut, stats, seenActive, inventory, holds,
 * holders, userHolds (all under one hash tag). Numbers are returned as strings: Redis truncates Lua
 * numbers to integers.
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
-- What a poll says about the line besides the place: measured rate and deviation, effective rate,
-- the operator's rate, and why the line stands still (with the holds that could come back).
-- The last two are the seats the line may still sell (free and held, '' until booking was asked).
local function line_info()
  local s = redis.call('HMGET', KEYS[8], 'rate', 'dev', 'eff', 'reason', 'onhold', 'nextrel', 'free', 'held')
  local cfg_rate = redis.call('HGET', KEYS[6], 'rate')
  return {s[1] or '', s[2] or '', s[3] or '', cfg_rate or '', s[4] or '', s[5] or '', s[6] or '', s[7] or '', s[8] or ''}
end
-- While every seat is held, the earliest moment this place could be admitted: the deadline of the
-- k-th hold to end, k = position / overbook (the last hold's when the place is beyond them all).
local function release_for(position, info, overbook)
  if info[5] ~= 'ALL_SEATS_HELD' or position == '' then return '' end
  local held = redis.call('ZCARD', KEYS[11])
  if held == 0 then return '' end
  local k = math.min(held, math.max(1, math.ceil(tonumber(position) / overbook)))
  local at = redis.call('ZRANGE', KEYS[11], k - 1, k - 1, 'WITHSCORES')
  return at[2] or ''
end
local function reply(p, created, overbook)
  local r = {p[1], p[2], p[3], p[4], p[5]}
  local info = line_info()
  for _, v in ipairs(info) do r[#r + 1] = v end
  r[#r + 1] = created
  local release = p[1] == 'WAITING' and release_for(p[5], info, overbook) or ''
  -- A fan told to come back after a hold ends is not idle before then: the idle timeout counts from it.
  if release ~= '' then redis.call('ZADD', KEYS[3], 'XX', 'GT', release, ARGV[1]) end
  r[#r + 1] = release
  return r
end
`

/** ARGV: userId, now, activeTtlMs, overbook. -> status, seq, joinedAt, activeUntil, position, ...line_info (9), created, releaseFor */
export const JOIN = `${PLACE}
local uid, now, ttl, overbook = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HGET', KEYS[7], 'soldOut') == '1' then return {'SOLD_OUT'} end
local p = place_of(uid, now)
if p and (p[1] == 'ACTIVE' or p[1] == 'WAITING') then
  if p[1] == 'WAITING' then redis.call('ZADD', KEYS[3], now, uid) end
  if p[1] == 'ACTIVE' then redis.call('ZADD', KEYS[9], 'XX', now, uid) end
  return reply(p, '0', overbook)
end
if p then
  redis.call('ZREM', KEYS[5], uid)
  redis.call('ZREM', KEYS[9], uid)
  redis.call('HDEL', KEYS[4], uid)
end
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[4], uid, seq .. ':' .. ARGV[2])
if redis.call('HGET', KEYS[6], 'mode') == 'let-all' then
  local until_ms = now + ttl
  redis.call('ZADD', KEYS[5], until_ms, uid)
  redis.call('ZADD', KEYS[9], now, uid)
  return reply({'ACTIVE', tostring(seq), ARGV[2], tostring(until_ms), '0'}, '1', overbook)
end
redis.call('ZADD', KEYS[2], seq, uid)
redis.call('ZADD', KEYS[3], now, uid)
local rank = redis.call('ZRANK', KEYS[2], uid)
return reply({'WAITING', tostring(seq), ARGV[2], '', tostring(rank + 1)}, '1', overbook)
`

/** ARGV: userId, seq, now, overbook. -> like JOIN, or EXPIRED / SOLD_OUT. A poll is a sign of life. */
export const POLL = `${PLACE}
local uid, seq, now, overbook = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HGET', KEYS[7], 'soldOut') == '1' then return {'SOLD_OUT'} end
local p = place_of(uid, now)
if not p or p[2] ~= seq or (p[1] ~= 'ACTIVE' and p[1] ~= 'WAITING') then return {'EXPIRED'} end
if p[1] == 'WAITING' then redis.call('ZADD', KEYS[3], 'XX', now, uid) end
if p[1] == 'ACTIVE' then redis.call('ZADD', KEYS[9], 'XX', now, uid) end
return reply(p, '0', overbook)
`

/**
 * Ending an ACTIVE slot records its seq under the user's revocation key for as long as any token
 * of it can live, so the gateway refuses the token with one GET. The key shares the line's hash tag.
 */
const END_ACTIVE = `
local function end_active(uid, seq, rev_key, ttl)
  redis.call('ZREM', KEYS[5], uid)
  redis.call('ZREM', KEYS[9], uid)
  redis.call('HDEL', KEYS[4], uid)
  local prev = tonumber(redis.call('GET', rev_key) or '0')
  if tonumber(seq) > prev then redis.call('SET', rev_key, seq, 'PX', ttl) end
end
`

/** KEYS[14] = the user's revocation key. ARGV: userId, seq, now, activeTtlMs. -> LEFT | ENDED | NONE */
export const LEAVE = `${PLACE}${END_ACTIVE}
local uid, seq, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local p = place_of(uid, now)
if not p or p[2] ~= seq then return 'NONE' end
if p[1] == 'ACTIVE' then
  end_active(uid, seq, KEYS[14], ttl)
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

/** KEYS[14] = revocation key, KEYS[15] = the event's de-duplication key. ARGV: userId, now, activeTtlMs, dedupTtlMs. -> ENDED | NONE | DUPLICATE */
export const END_ACTIVE_ONCE = `${PLACE}${END_ACTIVE}
local uid, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if not redis.call('SET', KEYS[15], '1', 'NX', 'PX', ARGV[4]) then return 'DUPLICATE' end
local p = place_of(uid, now)
if not p or p[1] ~= 'ACTIVE' then return 'NONE' end
end_active(uid, p[2], KEYS[14], ttl)
return 'ENDED'
`

/**
 * The first half of an admission step. ARGV: tick, now, waitingIdleMs, activeIdleMs, batchLimit,
 * revocationKeyPrefix (with the client's prefix: the key is built here), activeTtlMs.
 * -> ran, expired, droppedOut, idleReleased, waiting, active, activeHolding, cfgRate, cfgCap,
 *    paused, mode, soldOut, carry, known, total, sold, opensAt, syncedAt, onHold, nextReleaseAt
 * The tick number in stats makes this run once per tick however many instances call it. Costs
 * O(log n) per user expired or released, plus one look per holder, never a scan of the line.
 */
export const STEP_PREPARE = `${END_ACTIVE}
local tick, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait_idle, active_idle, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local rev_prefix, ttl = ARGV[6], tonumber(ARGV[7])
local last = tonumber(redis.call('HGET', KEYS[8], 'tick') or '-1')
if tick <= last then return {'0'} end
redis.call('HSET', KEYS[8], 'tick', ARGV[1])

local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, limit)
for _, uid in ipairs(expired) do
  redis.call('ZREM', KEYS[5], uid)
  redis.call('ZREM', KEYS[9], uid)
  redis.call('HDEL', KEYS[4], uid)
end
local idle_waiters = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - wait_idle, 'LIMIT', 0, limit)
for _, uid in ipairs(idle_waiters) do
  redis.call('ZREM', KEYS[2], uid)
  redis.call('ZREM', KEYS[3], uid)
  redis.call('HDEL', KEYS[4], uid)
end
-- An ACTIVE fan not seen for a while loses the slot, unless a live hold keeps it.
local released = 0
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', now - active_idle, 'LIMIT', 0, limit)) do
  if redis.call('HEXISTS', KEYS[13], uid) == 0 then
    local u = redis.call('HGET', KEYS[4], uid)
    if u and redis.call('ZSCORE', KEYS[5], uid) then
      end_active(uid, string.match(u, '^(%d+):'), rev_prefix .. uid, ttl)
      released = released + 1
    else
      redis.call('ZREM', KEYS[9], uid)
    end
  end
end

local holding = 0
for _, uid in ipairs(redis.call('HKEYS', KEYS[13])) do
  if redis.call('ZSCORE', KEYS[5], uid) then holding = holding + 1 end
end
local cfg = redis.call('HMGET', KEYS[6], 'rate', 'cap', 'paused', 'mode')
local inv = redis.call('HMGET', KEYS[10], 'known', 'total', 'sold', 'opensAt', 'syncedAt')
local first = redis.call('ZRANGE', KEYS[11], 0, 0, 'WITHSCORES')
return {'1', tostring(#expired), tostring(#idle_waiters), tostring(released),
  tostring(redis.call('ZCARD', KEYS[2])), tostring(redis.call('ZCARD', KEYS[5])), tostring(holding),
  cfg[1] or '', cfg[2] or '', cfg[3] or '', cfg[4] or '', redis.call('HGET', KEYS[7], 'soldOut') or '0',
  redis.call('HGET', KEYS[8], 'carry') or '0',
  inv[1] or '0', inv[2] or '0', inv[3] or '0', inv[4] or '', inv[5] or '0',
  tostring(redis.call('ZCARD', KEYS[11])), first[2] or ''}
`

/**
 * The second half: admits the decided number from the front of the line and records what polls
 * report. ARGV: n, now, activeTtlMs, tickMs, cap (-1: none), carry, effectiveRate, why, reason,
 * onHold, nextReleaseAt, health (why the rate is backed off), then the line's settings fans' answers
 * need: free and held seats ('' unknown), overbook, the default rate, activeTtlMs again and the
 * waiting token's lifetime (s). KEYS[14] = the line's summary.
 * -> admitted, waiting, active. The cap is checked again: joins and leaves may have run since the first half.
 */
export const STEP_ADMIT = `
local n, now, ttl, tick_ms, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local active = redis.call('ZCARD', KEYS[5])
local waiting = redis.call('ZCARD', KEYS[2])
n = math.min(n, waiting)
if cap >= 0 then n = math.min(n, cap - active) end
if n < 0 then n = 0 end
if n > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[2], n)
  local until_ms = now + ttl
  for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[5], until_ms, popped[i])
    redis.call('ZADD', KEYS[9], now, popped[i])
    redis.call('ZREM', KEYS[3], popped[i])
  end
end
redis.call('HSET', KEYS[8], 'carry', ARGV[6], 'eff', ARGV[7], 'why', ARGV[8], 'reason', ARGV[9], 'onhold', ARGV[10], 'nextrel', ARGV[11], 'health', ARGV[12],
  'free', ARGV[13], 'held', ARGV[14])
-- measured only while people wait: an empty line says nothing about how fast it moves
if waiting > 0 then
  local measured = n * 1000 / tick_ms
  local prev = tonumber(redis.call('HGET', KEYS[8], 'rate') or '')
  local dev = 0
  if prev then
    dev = 0.3 * math.abs(measured - prev) + 0.7 * tonumber(redis.call('HGET', KEYS[8], 'dev') or '0')
    measured = 0.3 * measured + 0.7 * prev
  end
  redis.call('HSET', KEYS[8], 'rate', tostring(measured), 'dev', tostring(dev))
end
-- The summary the gateway answers polls far back in line from (LINE_SUMMARY_FIELDS in shared).
local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local s = redis.call('HMGET', KEYS[8], 'rate', 'dev')
local open = (ARGV[8] == 'let-all' or ARGV[8] == 'sold-out') and '1' or '0'
redis.call('HSET', KEYS[14], 'at', ARGV[2], 'head', head[2] or '', 'tail', redis.call('GET', KEYS[1]) or '0',
  'waiting', tostring(waiting - n), 'rate', s[1] or '', 'dev', s[2] or '', 'eff', ARGV[7], 'reason', ARGV[9], 'open', open,
  'free', ARGV[13], 'held', ARGV[14], 'ob', ARGV[15], 'dr', ARGV[16], 'ttl', ARGV[3], 'wttl', ARGV[17])
redis.call('PEXPIRE', KEYS[14], 60000)
return {tostring(n), tostring(waiting - n), tostring(active + n)}
`

/** KEYS[1] = soldOut hash. ARGV: '1' | '0', at (ms). -> 1 applied, 0 older than the last change */
export const SET_SOLD_OUT = `
local at = tonumber(ARGV[2])
local prev = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if at < prev then return 0 end
redis.call('HSET', KEYS[1], 'soldOut', ARGV[1], 'at', ARGV[2])
return 1
`

/**
 * The inventory scripts. KEYS: inventory, holds, holders, userHolds, endedConfirmed,
 * endedReleased, endedRefunded. Events may come twice or out of order (one durable consumer per
 * subject): an ended reservation is remembered for a while, so a late "held" cannot bring it back
 * and a repeated end changes nothing.
 */
const HOLDS = `
local function forget_hold(res)
  local h = redis.call('HGET', KEYS[3], res)
  if not h then return end
  local uid = string.match(h, '^(.*)|%d+$')
  redis.call('ZREM', KEYS[2], res)
  redis.call('HDEL', KEYS[3], res)
  if redis.call('HINCRBY', KEYS[4], uid, -1) <= 0 then redis.call('HDEL', KEYS[4], uid) end
end
local function add_hold(res, uid, until_ms, at)
  for i = 5, 7 do
    if redis.call('ZSCORE', KEYS[i], res) then return 'STALE' end
  end
  if redis.call('HEXISTS', KEYS[3], res) == 1 then return 'DUPLICATE' end
  redis.call('ZADD', KEYS[2], until_ms, res)
  redis.call('HSET', KEYS[3], res, uid .. '|' .. at)
  redis.call('HINCRBY', KEYS[4], uid, 1)
  return 'APPLIED'
end
`

/** ARGV: reservationId, userId, until (ms), occurredAt (ms). -> APPLIED | DUPLICATE | STALE */
export const INVENTORY_HELD = `${HOLDS}
return add_hold(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`

/**
 * ARGV: which ended set (5 confirmed, 6 released, 7 refunded), reservationId, occurredAt (ms),
 * forgetBefore (ms). -> APPLIED | DUPLICATE. A sale or refund older than the last resync is
 * already in its counts.
 */
export const INVENTORY_ENDED = `${HOLDS}
local kind, res, at = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[kind], res) then return 'DUPLICATE' end
redis.call('ZADD', KEYS[kind], at, res)
redis.call('ZREMRANGEBYSCORE', KEYS[kind], '-inf', '(' .. ARGV[4])
forget_hold(res)
if at > tonumber(redis.call('HGET', KEYS[1], 'asOf') or '0') then
  if kind == 5 then redis.call('HINCRBY', KEYS[1], 'sold', 1) end
  if kind == 7 and redis.call('HINCRBY', KEYS[1], 'sold', -1) < 0 then redis.call('HSET', KEYS[1], 'sold', 0) end
end
return 'APPLIED'
`

/**
 * Replaces the counts and holds with booking's snapshot taken at asOf, keeping what events said
 * since: sales and refunds that occurred after asOf, holds taken after asOf, and ends of holds that
 * the snapshot still lists. ARGV: asOf, total, sold, opensAt ('' if none), syncedAt, then
 * reservationId, userId, until for each hold. -> holds kept
 */
export const INVENTORY_SNAPSHOT = `${HOLDS}
local as_of = tonumber(ARGV[1])
local after = '(' .. ARGV[1]
local sold = tonumber(ARGV[3]) + redis.call('ZCOUNT', KEYS[5], after, '+inf') - redis.call('ZCOUNT', KEYS[7], after, '+inf')
if sold < 0 then sold = 0 end
local newer = {}
local holders = redis.call('HGETALL', KEYS[3])
for i = 1, #holders, 2 do
  local uid, at = string.match(holders[i + 1], '^(.*)|(%d+)$')
  if tonumber(at) > as_of then
    newer[#newer + 1] = {holders[i], uid, redis.call('ZSCORE', KEYS[2], holders[i]), at}
  end
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
for _, h in ipairs(newer) do add_hold(h[1], h[2], h[3], h[4]) end
for i = 6, #ARGV, 3 do add_hold(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[1]) end
redis.call('HSET', KEYS[1], 'known', '1', 'total', ARGV[2], 'sold', tostring(sold), 'asOf', ARGV[1], 'opensAt', ARGV[4], 'syncedAt', ARGV[5])
return redis.call('ZCARD', KEYS[2])
`
