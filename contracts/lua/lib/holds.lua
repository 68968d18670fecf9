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
