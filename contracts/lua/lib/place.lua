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
  -- A presale place taken in the pre-queue's window waits for the opening its draw names.
  local opens = ''
  if p[1] == 'WAITING' and p[6] == '1' then
    local d = redis.call('HMGET', KEYS[14], 'state', 'opens')
    if d[1] == 'open' then opens = d[2] end
  end
  r[#r + 1] = opens
  return r
end
