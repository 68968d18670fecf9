/**
 * The inventory scripts. KEYS: inventory, holds, holders, userHolds, endedConfirmed,
 * endedReleased, endedRefunded. Events may come twice or out of order (one durable consumer per
 * subject): an ended reservation is remembered for a while, so a late "held" cannot bring it back
 * and a repeated end changes nothing.
 */
const HOLDS = `
local function forget_hold(res)
  local h = redis.call('HGET', KEYS[3], res)
  if not h then return end
  local uid = string.match(h, '^(.*)|%d+$')
  redis.call('ZREM', KEYS[2], res)
  redis.call('HDEL', KEYS[3], res)
  if redis.call('HINCRBY', KEYS[4], uid, -1) <= 0 then redis.call('HDEL', KEYS[4], uid) end
end
local function add_hold(res, uid, until_ms, at)
  for i = 5, 7 do
    if redis.call('ZSCORE', KEYS[i], res) then return 'STALE' end
  end
  if redis.call('HEXISTS', KEYS[3], res) == 1 then return 'DUPLICATE' end
  redis.call('ZADD', KEYS[2], until_ms, res)
  redis.call('HSET', KEYS[3], res, uid .. '|' .. at)
  redis.call('HINCRBY', KEYS[4], uid, 1)
  return 'APPLIED'
end
`

/** ARGV: reservationId, userId, until (ms), occurredAt (ms). -> APPLIED | DUPLICATE | STALE */
export const INVENTORY_HELD = `${HOLDS}
return add_hold(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`

/**
 * ARGV: which ended set (5 confirmed, 6 released, 7 refunded), reservationId, occurredAt (ms),
 * forgetBefore (ms). -> APPLIED | DUPLICATE. A sale or refund older than the last resync is
 * already in its counts.
 */
export const INVENTORY_ENDED = `${HOLDS}
local kind, res, at = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[kind], res) then return 'DUPLICATE' end
redis.call('ZADD', KEYS[kind], at, res)
redis.call('ZREMRANGEBYSCORE', KEYS[kind], '-inf', '(' .. ARGV[4])
forget_hold(res)
if at > tonumber(redis.call('HGET', KEYS[1], 'asOf') or '0') then
  if kind == 5 then redis.call('HINCRBY', KEYS[1], 'sold', 1) end
  if kind == 7 and redis.call('HINCRBY', KEYS[1], 'sold', -1) < 0 then redis.call('HSET', KEYS[1], 'sold', 0) end
end
return 'APPLIED'
`

/**
 * Replaces the counts and holds with booking's snapshot taken at asOf, keeping what events said
 * since: sales and refunds that occurred after asOf, holds taken after asOf, and ends of holds that
 * the snapshot still lists. ARGV: asOf, total, sold, opensAt ('' if none), syncedAt, then
 * reservationId, userId, until for each hold. -> holds kept
 */
export const INVENTORY_SNAPSHOT = `${HOLDS}
local as_of = tonumber(ARGV[1])
local after = '(' .. ARGV[1]
local sold = tonumber(ARGV[3]) + redis.call('ZCOUNT', KEYS[5], after, '+inf') - redis.call('ZCOUNT', KEYS[7], after, '+inf')
if sold < 0 then sold = 0 end
local newer = {}
local holders = redis.call('HGETALL', KEYS[3])
for i = 1, #holders, 2 do
  local uid, at = string.match(holders[i + 1], '^(.*)|(%d+)$')
  if tonumber(at) > as_of then
    newer[#newer + 1] = {holders[i], uid, redis.call('ZSCORE', KEYS[2], holders[i]), at}
  end
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
for _, h in ipairs(newer) do add_hold(h[1], h[2], h[3], h[4]) end
for i = 6, #ARGV, 3 do add_hold(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[1]) end
redis.call('HSET', KEYS[1], 'known', '1', 'total', ARGV[2], 'sold', tostring(sold), 'asOf', ARGV[1], 'opensAt', ARGV[4], 'syncedAt', ARGV[5])
return redis.call('ZCARD', KEYS[2])
`
