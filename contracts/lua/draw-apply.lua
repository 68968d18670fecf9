if redis.call('GET', KEYS[7]) ~= ARGV[1] then return {'LOST'} end
local d = redis.call('HMGET', KEYS[1], 'state', 'base', 'applied')
if d[1] ~= 'frozen' then return {'DONE'} end
local start = tonumber(ARGV[2])
if tonumber(d[3]) ~= start then return {'AT', d[3]} end
local base, now = tonumber(d[2]), ARGV[3]
local k, placed = 0, 0
for i = 6, #ARGV, 3 do
  k = k + 1
  local uid, place = ARGV[i], start + k
  local seq = tostring(base + place)
  redis.call('ZADD', KEYS[6], place, ARGV[i + 1])
  if redis.call('SISMEMBER', KEYS[5], uid) == 0 and redis.call('HEXISTS', KEYS[2], uid) == 0 then
    redis.call('HSET', KEYS[2], uid, seq .. ':' .. ARGV[i + 2])
    redis.call('ZADD', KEYS[3], seq, uid)
    redis.call('ZADD', KEYS[4], now, uid)
    placed = placed + 1
  end
end
redis.call('HSET', KEYS[1], 'applied', tostring(start + k), 'digest', ARGV[5])
redis.call('PEXPIRE', KEYS[7], ARGV[4])
return {'OK', tostring(placed)}
