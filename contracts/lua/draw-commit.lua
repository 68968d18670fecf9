local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opens', ARGV[2], 'from', ARGV[3], 'seed', ARGV[4], 'seedHash', ARGV[5], 'committedAt', ARGV[1])
  return 'COMMITTED'
end
if state == 'open' then
  redis.call('HSET', KEYS[1], 'opens', ARGV[2], 'from', ARGV[3])
  return 'MOVED'
end
return state
