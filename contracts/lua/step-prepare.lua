local tick, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait_idle, active_idle, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local rev_prefix, ttl = ARGV[6], tonumber(ARGV[7])
local last = tonumber(redis.call('HGET', KEYS[8], 'tick') or '-1')
if tick <= last then return {'0'} end
redis.call('HSET', KEYS[8], 'tick', ARGV[1])
local draw = draw_now(now)

local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, limit)
for _, uid in ipairs(expired) do
  redis.call('ZREM', KEYS[5], uid)
  redis.call('ZREM', KEYS[9], uid)
  redis.call('HDEL', KEYS[4], uid)
end
local idle_waiters = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - wait_idle, 'LIMIT', 0, limit)
for _, uid in ipairs(idle_waiters) do
  redis.call('ZREM', KEYS[2], uid)
  redis.call('ZREM', KEYS[3], uid)
  redis.call('HDEL', KEYS[4], uid)
end
-- An ACTIVE fan not seen for a while loses the slot, unless a live hold keeps it.
local released = 0
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', now - active_idle, 'LIMIT', 0, limit)) do
  if redis.call('HEXISTS', KEYS[13], uid) == 0 then
    local u = redis.call('HGET', KEYS[4], uid)
    if u and redis.call('ZSCORE', KEYS[5], uid) then
      end_active(uid, string.match(u, '^(%d+):'), rev_prefix .. uid, ttl)
      released = released + 1
    else
      redis.call('ZREM', KEYS[9], uid)
    end
  end
end

local holding = 0
for _, uid in ipairs(redis.call('HKEYS', KEYS[13])) do
  if redis.call('ZSCORE', KEYS[5], uid) then holding = holding + 1 end
end
local cfg = redis.call('HMGET', KEYS[6], 'rate', 'cap', 'paused', 'mode')
local inv = redis.call('HMGET', KEYS[10], 'known', 'total', 'sold', 'opensAt', 'syncedAt')
local first = redis.call('ZRANGE', KEYS[11], 0, 0, 'WITHSCORES')
return {'1', tostring(#expired), tostring(#idle_waiters), tostring(released),
  tostring(redis.call('ZCARD', KEYS[2])), tostring(redis.call('ZCARD', KEYS[5])), tostring(holding),
  cfg[1] or '', cfg[2] or '', cfg[3] or '', cfg[4] or '', redis.call('HGET', KEYS[7], 'soldOut') or '0',
  redis.call('HGET', KEYS[8], 'carry') or '0',
  inv[1] or '0', inv[2] or '0', inv[3] or '0', inv[4] or '', inv[5] or '0',
  tostring(redis.call('ZCARD', KEYS[11])), first[2] or '', draw[1] or '', draw[2] or '', draw[3] or '',
  redis.call('HGET', KEYS[6], 'pqw') or ''}
