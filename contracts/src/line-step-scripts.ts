import { DRAW_LINE } from './line-draw-scripts.js'
import { END_ACTIVE } from './line-fan-scripts.js'

// The admission step's two halves and the sold-out flag; KEYS 1..17 as in line-fan-scripts.ts.

/**
 * The first half of an admission step. ARGV: tick, now, waitingIdleMs, activeIdleMs, batchLimit,
 * revocationKeyPrefix (with the client's prefix: the key is built here), activeTtlMs.
 * -> ran, expired, droppedOut, idleReleased, waiting, active, activeHolding, cfgRate, cfgCap,
 *    paused, mode, soldOut, carry, known, total, sold, opensAt, syncedAt, onHold, nextReleaseAt,
 *    drawState, drawOpens, drawFrom (the opening freezes the pre-queue here if nothing did before),
 *    preQueueWindowS (the concert's own pre-queue window, '' for the default)
 * The tick number in stats makes this run once per tick however many instances call it. Costs
 * O(log n) per user expired or released, plus one look per holder, never a scan of the line.
 */
export const STEP_PREPARE = `${END_ACTIVE}${DRAW_LINE}
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
`

/**
 * The second half: admits the decided number from the front of the line and records what polls
 * report. ARGV: n, now, activeTtlMs, tickMs, cap (-1: none), carry, effectiveRate, why, reason,
 * onHold, nextReleaseAt, health (why the rate is backed off), then the line's settings fans' answers
 * need: free and held seats ('' unknown), overbook, the default rate, activeTtlMs again, the
 * waiting token's lifetime (s) and the seconds over which polls within reach are spread.
 * KEYS[18] = the line's summary.
 * -> admitted, waiting, active. The cap is checked again: joins and leaves may have run since the first half.
 */
export const STEP_ADMIT = `
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
`

/** KEYS[1] = soldOut hash. ARGV: '1' | '0', at (ms). -> 1 applied, 0 older than the last change */
export const SET_SOLD_OUT = `
local at = tonumber(ARGV[2])
local prev = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if at < prev then return 0 end
redis.call('HSET', KEYS[1], 'soldOut', ARGV[1], 'at', ARGV[2])
return 1
`
