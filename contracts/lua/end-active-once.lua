local uid, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if not redis.call('SET', KEYS[19], '1', 'NX', 'PX', ARGV[4]) then return 'DUPLICATE' end
local p = place_of(uid, now)
if not p or p[1] ~= 'ACTIVE' then return 'NONE' end
end_active(uid, p[2], KEYS[18], ttl)
return 'ENDED'
