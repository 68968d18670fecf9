local uid, seq, now, overbook = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HGET', KEYS[7], 'soldOut') == '1' then return {'SOLD_OUT'} end
local p = place_of(uid, now)
if seq == '0' then
  local d = draw_now(now)
  if drawn_place(p, d) then
    seq = p[2]
  else
    local entry, phase = pre_entry(uid, d)
    if entry then return pre_reply(entry, d, phase, '0') end
  end
end
if not p or p[2] ~= seq or (p[1] ~= 'ACTIVE' and p[1] ~= 'WAITING') then return {'EXPIRED'} end
if p[1] == 'WAITING' then redis.call('ZADD', KEYS[3], 'XX', now, uid) end
if p[1] == 'ACTIVE' then redis.call('ZADD', KEYS[9], 'XX', now, uid) end
return reply(p, '0', overbook)
