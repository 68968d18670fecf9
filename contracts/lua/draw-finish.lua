if redis.call('GET', KEYS[6]) ~= ARGV[1] then return 'LOST' end
local d = redis.call('HMGET', KEYS[1], 'state', 'n', 'applied')
if d[1] ~= 'frozen' then return d[1] or '' end
if tonumber(d[3]) ~= tonumber(d[2]) then return 'INCOMPLETE' end
redis.call('HSET', KEYS[1], 'state', 'drawn', 'drawnAt', ARGV[2], 'digest', ARGV[4])
redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[6])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
redis.call('PEXPIRE', KEYS[5], ARGV[3])
return 'DRAWN'
