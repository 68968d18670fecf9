-- The records are sorted by entry id: halve the range until the id is found.
local size = tonumber(ARGV[2])
local lo, hi = 0, math.floor(redis.call('STRLEN', KEYS[1]) / size) - 1
while lo <= hi do
  local mid = math.floor((lo + hi) / 2)
  local record = redis.call('GETRANGE', KEYS[1], mid * size, mid * size + size - 1)
  local id = string.sub(record, 1, #ARGV[1])
  if id == ARGV[1] then return tonumber(string.sub(record, #ARGV[1] + 1)) end
  if id < ARGV[1] then lo = mid + 1 else hi = mid - 1 end
end
return 0
