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
