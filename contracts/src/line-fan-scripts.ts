import { DRAW_LINE } from './line-draw-scripts.js'

/**
 * The line's atomic operations as Lua: a fan's moves (join, poll, leave) and the end of an ACTIVE
 * slot. KEYS 1..17 of the line scripts are always, in this order: seq, waiting, seen, users,
 * active, settings, soldOut, stats, seenActive, inventory, holds, holders, userHolds, draw,
 * preQueue, preQueueFrozen, preQueueLeft (all under one hash tag). Numbers are returned as
 * strings: Redis truncates Lua numbers to integers.
 */

/** place_of and reply, shared by the scripts that answer a fan with their place. */
export const PLACE = `
local function place_of(uid, now)
  local u = redis.call('HGET', KEYS[4], uid)
  if not u then return nil end
  -- "seq:joinedAt", or "seq:joinedAt:p" for a place a presale code gave (see line-presale-scripts.ts)
  local seq, joined, mark = string.match(u, '^(%d+):(%d+)(:?p?)$')
  local presale = mark == ':p' and '1' or '0'
  local until_ms = redis.call('ZSCORE', KEYS[5], uid)
  if until_ms then
    if tonumber(until_ms) > now then return {'ACTIVE', seq, joined, until_ms, '0', presale} end
    return {'EXPIRED', seq}
  end
  local rank = redis.call('ZRANK', KEYS[2], uid)
  if rank then return {'WAITING', seq, joined, '', tostring(rank + 1), presale} end
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
  r[#r + 1] = redis.call('HGET', KEYS[8], 'spread') or ''
  r[#r + 1] = p[6] or '0'
  return r
end
`

/**
 * ARGV: userId, now, activeTtlMs, overbook, salt (for a new pre-queue entry), needKnown ('1': refuse
 * while the line does not know its opening). -> status, seq, joinedAt, activeUntil, position,
 * ...line_info (9), created, releaseFor, spread, presale; or PRE_QUEUE (see DRAW_LINE's pre_reply),
 * NOT_YET opens from, UNSYNCED, SOLD_OUT.
 */
export const JOIN = `${PLACE}${DRAW_LINE}
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
local d = draw_now(now)
local entry, phase = pre_entry(uid, d)
if entry then return pre_reply(entry, d, phase, '0') end
local refusal = join_refusal(d, now, ARGV[6] == '1')
if refusal then return refusal end
if d[1] == 'open' then
  entry = ARGV[5] .. ':' .. ARGV[2]
  redis.call('HSET', KEYS[15], uid, entry)
  return pre_reply(entry, d, 'open', '1')
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

/**
 * ARGV: userId, seq, now, overbook. -> like JOIN, or EXPIRED / SOLD_OUT. A poll is a sign of life.
 * seq 0 is a pre-queue token: PRE_QUEUE until the draw placed the fan, then the drawn place.
 */
export const POLL = `${PLACE}${DRAW_LINE}
local uid, seq, now, overbook = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HGET', KEYS[7], 'soldOut') == '1' then return {'SOLD_OUT'} end
local p = place_of(uid, now)
if seq == '0' then
  local d = draw_now(now)
  if drawn_place(p, d) then
    seq = p[2]
  else
    local entry, phase = pre_entry(uid, d)
    if entry then return pre_reply(entry, d, phase, '0') end
  end
end
if not p or p[2] ~= seq or (p[1] ~= 'ACTIVE' and p[1] ~= 'WAITING') then return {'EXPIRED'} end
if p[1] == 'WAITING' then redis.call('ZADD', KEYS[3], 'XX', now, uid) end
if p[1] == 'ACTIVE' then redis.call('ZADD', KEYS[9], 'XX', now, uid) end
return reply(p, '0', overbook)
`

/**
 * Ending an ACTIVE slot records its seq under the user's revocation key for as long as any token
 * of it can live, so the gateway refuses the token with one GET. The key shares the line's hash tag.
 */
export const END_ACTIVE = `
local function end_active(uid, seq, rev_key, ttl)
  redis.call('ZREM', KEYS[5], uid)
  redis.call('ZREM', KEYS[9], uid)
  redis.call('HDEL', KEYS[4], uid)
  local prev = tonumber(redis.call('GET', rev_key) or '0')
  if tonumber(seq) > prev then redis.call('SET', rev_key, seq, 'PX', ttl) end
end
`

/**
 * KEYS[18] = the user's revocation key. ARGV: userId, seq, now, activeTtlMs. -> LEFT | ENDED | NONE
 * seq 0 leaves the pre-queue, or the place the draw gave.
 */
export const LEAVE = `${PLACE}${END_ACTIVE}${DRAW_LINE}
local uid, seq, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local p = place_of(uid, now)
if seq == '0' then
  local d = redis.call('HMGET', KEYS[14], 'state', 'opens', 'from', 'base', 'n')
  if drawn_place(p, d) then
    seq = p[2]
  elseif d[1] == 'open' and redis.call('HDEL', KEYS[15], uid) == 1 then
    return 'LEFT'
  elseif d[1] == 'frozen' and redis.call('HEXISTS', KEYS[16], uid) == 1 and redis.call('SADD', KEYS[17], uid) == 1 then
    return 'LEFT'
  end
end
if not p or p[2] ~= seq then return 'NONE' end
if p[1] == 'ACTIVE' then
  end_active(uid, seq, KEYS[18], ttl)
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

/** KEYS[18] = revocation key, KEYS[19] = the event's de-duplication key. ARGV: userId, now, activeTtlMs, dedupTtlMs. -> ENDED | NONE | DUPLICATE */
export const END_ACTIVE_ONCE = `${PLACE}${END_ACTIVE}
local uid, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if not redis.call('SET', KEYS[19], '1', 'NX', 'PX', ARGV[4]) then return 'DUPLICATE' end
local p = place_of(uid, now)
if not p or p[1] ~= 'ACTIVE' then return 'NONE' end
end_active(uid, p[2], KEYS[18], ttl)
return 'ENDED'
`
