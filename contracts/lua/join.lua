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
