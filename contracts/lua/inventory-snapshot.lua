local as_of = tonumber(ARGV[1])
local after = '(' .. ARGV[1]
local sold = tonumber(ARGV[3]) + redis.call('ZCOUNT', KEYS[5], after, '+inf') - redis.call('ZCOUNT', KEYS[7], after, '+inf')
if sold < 0 then sold = 0 end
local newer = {}
local holders = redis.call('HGETALL', KEYS[3])
for i = 1, #holders, 2 do
  local uid, at = string.match(holders[i + 1], '^(.*)|(%d+)$')
  if tonumber(at) > as_of then
    newer[#newer + 1] = {holders[i], uid, redis.call('ZSCORE', KEYS[2], holders[i]), at}
  end
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
for _, h in ipairs(newer) do add_hold(h[1], h[2], h[3], h[4]) end
for i = 6, #ARGV, 3 do add_hold(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[1]) end
redis.call('HSET', KEYS[1], 'known', '1', 'total', ARGV[2], 'sold', tostring(sold), 'asOf', ARGV[1], 'opensAt', ARGV[4], 'syncedAt', ARGV[5])
return redis.call('ZCARD', KEYS[2])
