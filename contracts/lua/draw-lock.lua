local d = redis.call('HMGET', KEYS[1], 'state', 'seed', 'base', 'n', 'applied')
if d[1] ~= 'frozen' then return {'NONE', d[1] or ''} end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {'BUSY', d[1]} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'LOCKED', d[1], d[2] or '', d[3] or '0', d[4] or '0', d[5] or '0'}
