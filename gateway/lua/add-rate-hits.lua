local out = {}
for i, key in ipairs(KEYS) do
  local hits = tonumber(ARGV[i + 1])
  local current = redis.call('INCRBY', key, hits)
  local ttl = -1
  if current > hits then ttl = redis.call('PTTL', key) end
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  out[2 * i - 1] = current
  out[2 * i] = ttl
end
return out
