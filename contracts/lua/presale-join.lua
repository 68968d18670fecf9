local uid, now, ttl, overbook, code = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if redis.call('HGET', KEYS[7], 'soldOut') == '1' then return {'SOLD_OUT'} end
local p = place_of(uid, now)
if p and (p[1] == 'ACTIVE' or (p[1] == 'WAITING' and p[6] == '1')) then
  if p[1] == 'WAITING' then redis.call('ZADD', KEYS[3], now, uid) end
  if p[1] == 'ACTIVE' then redis.call('ZADD', KEYS[9], 'XX', now, uid) end
  return reply(p, '0', overbook)
end
local mine = redis.call('HGET', KEYS[19], uid)
if mine and mine ~= code then return {'CODE_OTHER'} end
local c = redis.call('HMGET', KEYS[18], 'uses', 'used', 'from', 'to', 'bypass', 'keep')
if not c[1] then return {'CODE_WRONG'} end
if now < tonumber(c[3]) or now >= tonumber(c[4]) then return {'CODE_OUTSIDE', c[3], c[4]} end
if not mine and tonumber(c[2] or '0') >= tonumber(c[1]) then return {'CODE_SPENT'} end
local d = draw_now(now)
local refusal = join_refusal(d, now, ARGV[6] == '1')
if refusal then return refusal end
if not mine then
  redis.call('HINCRBY', KEYS[18], 'used', 1)
  redis.call('HSET', KEYS[19], uid, code)
  redis.call('PEXPIREAT', KEYS[19], c[6], 'GT')
  if redis.call('PTTL', KEYS[19]) < 0 then redis.call('PEXPIREAT', KEYS[19], c[6]) end
end
-- The fan's entry in the pre-queue, or place in the general line, gives way to the presale place.
if d[1] == 'open' then
  redis.call('HDEL', KEYS[15], uid)
elseif d[1] == 'frozen' and redis.call('HEXISTS', KEYS[16], uid) == 1 then
  redis.call('SADD', KEYS[17], uid)
end
if p then
  redis.call('ZREM', KEYS[2], uid)
  redis.call('ZREM', KEYS[3], uid)
  redis.call('ZREM', KEYS[5], uid)
  redis.call('ZREM', KEYS[9], uid)
  redis.call('HDEL', KEYS[4], uid)
end
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[4], uid, seq .. ':' .. ARGV[2] .. ':p')
-- Before the opening (the pre-queue open) a bypass code holds a presale place: admitted first.
if d[1] ~= 'open' and (c[5] == '1' or redis.call('HGET', KEYS[6], 'mode') == 'let-all') then
  local until_ms = now + ttl
  redis.call('ZADD', KEYS[5], until_ms, uid)
  redis.call('ZADD', KEYS[9], now, uid)
  return reply({'ACTIVE', tostring(seq), ARGV[2], tostring(until_ms), '0', '1'}, '1', overbook)
end
redis.call('ZADD', KEYS[2], string.format('%.0f', seq - 1000000000000), uid)
redis.call('ZADD', KEYS[3], now, uid)
local rank = redis.call('ZRANK', KEYS[2], uid)
return reply({'WAITING', tostring(seq), ARGV[2], '', tostring(rank + 1), '1'}, '1', overbook)
