local at = tonumber(ARGV[2])
local prev = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if at < prev then return 0 end
redis.call('HSET', KEYS[1], 'soldOut', ARGV[1], 'at', ARGV[2])
return 1
