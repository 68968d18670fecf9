local function end_active(uid, seq, rev_key, ttl)
  redis.call('ZREM', KEYS[5], uid)
  redis.call('ZREM', KEYS[9], uid)
  redis.call('HDEL', KEYS[4], uid)
  local prev = tonumber(redis.call('GET', rev_key) or '0')
  if tonumber(seq) > prev then redis.call('SET', rev_key, seq, 'PX', ttl) end
end
