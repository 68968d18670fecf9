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
