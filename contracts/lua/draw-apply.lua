if redis.call('GET', KEYS[8]) ~= ARGV[1] then return {'LOST'} end
local d = redis.call('HMGET', KEYS[1], 'state', 'base', 'applied')
if d[1] ~= 'frozen' then return {'DONE'} end
local start = tonumber(ARGV[2])
if tonumber(d[3]) ~= start then return {'AT', d[3]} end
local base, now = tonumber(d[2]), ARGV[3]
local uids, joined = {}, {}
for i = 8, #ARGV, 2 do
  uids[#uids + 1] = ARGV[i]
  joined[#joined + 1] = ARGV[i + 1]
end
local k = #uids
-- One write per structure and chunk (each record list at this chunk's offset; unpack takes up to
-- about 8,000 values, so a chunk stays under 4,000 places).
redis.call('SETRANGE', KEYS[6], start * (#ARGV[6] / k), ARGV[6])
redis.call('SETRANGE', KEYS[7], start * (#ARGV[7] / k), ARGV[7])
local left = {}
if redis.call('SCARD', KEYS[5]) > 0 then left = redis.call('SMISMEMBER', KEYS[5], unpack(uids)) end
local held = redis.call('HMGET', KEYS[2], unpack(uids))
local users, line, seen = {}, {}, {}
for j = 1, k do
  if left[j] ~= 1 and not held[j] then
    local seq = tostring(base + start + j)
    users[#users + 1], users[#users + 2] = uids[j], seq .. ':' .. joined[j]
    line[#line + 1], line[#line + 2] = seq, uids[j]
    seen[#seen + 1], seen[#seen + 2] = now, uids[j]
  end
end
if #users > 0 then
  redis.call('HSET', KEYS[2], unpack(users))
  redis.call('ZADD', KEYS[3], unpack(line))
  redis.call('ZADD', KEYS[4], unpack(seen))
end
redis.call('HSET', KEYS[1], 'applied', tostring(start + k), 'digest', ARGV[5])
redis.call('PEXPIRE', KEYS[8], ARGV[4])
return {'OK', tostring(#users / 2)}
