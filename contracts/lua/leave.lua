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
