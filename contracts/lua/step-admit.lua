local n, now, ttl, tick_ms, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local active = redis.call('ZCARD', KEYS[5])
local waiting = redis.call('ZCARD', KEYS[2])
n = math.min(n, waiting)
if cap >= 0 then n = math.min(n, cap - active) end
if n < 0 then n = 0 end
if n > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[2], n)
  local until_ms = now + ttl
  for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[5], until_ms, popped[i])
    redis.call('ZADD', KEYS[9], now, popped[i])
    redis.call('ZREM', KEYS[3], popped[i])
  end
end
redis.call('HSET', KEYS[8], 'carry', ARGV[6], 'eff', ARGV[7], 'why', ARGV[8], 'reason', ARGV[9], 'onhold', ARGV[10], 'nextrel', ARGV[11], 'health', ARGV[12],
  'free', ARGV[13], 'held', ARGV[14], 'spread', ARGV[18])
-- measured only while people wait: an empty line says nothing about how fast it moves
if waiting > 0 then
  local measured = n * 1000 / tick_ms
  local prev = tonumber(redis.call('HGET', KEYS[8], 'rate') or '')
  local dev = 0
  if prev then
    dev = 0.3 * math.abs(measured - prev) + 0.7 * tonumber(redis.call('HGET', KEYS[8], 'dev') or '0')
    measured = 0.3 * measured + 0.7 * prev
  end
  redis.call('HSET', KEYS[8], 'rate', tostring(measured), 'dev', tostring(dev))
end
-- The summary the gateway answers polls far back in line from (LINE_SUMMARY_FIELDS in contracts):
-- head is the first general place; presale places (negative scores) are counted apart.
local head = redis.call('ZRANGEBYSCORE', KEYS[2], 0, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local pre = redis.call('ZCOUNT', KEYS[2], '-inf', '(0')
local s = redis.call('HMGET', KEYS[8], 'rate', 'dev')
local open = (ARGV[8] == 'let-all' or ARGV[8] == 'sold-out') and '1' or '0'
redis.call('HSET', KEYS[18], 'at', ARGV[2], 'head', head[2] or '', 'tail', redis.call('GET', KEYS[1]) or '0',
  'waiting', tostring(waiting - n), 'rate', s[1] or '', 'dev', s[2] or '', 'eff', ARGV[7], 'reason', ARGV[9], 'open', open,
  'free', ARGV[13], 'held', ARGV[14], 'ob', ARGV[15], 'dr', ARGV[16], 'ttl', ARGV[3], 'wttl', ARGV[17], 'sp', ARGV[18], 'pre', tostring(pre))
redis.call('PEXPIRE', KEYS[18], 60000)
return {tostring(n), tostring(waiting - n), tostring(active + n)}
