import { queueLineSummaryKey } from '@tickets/contracts/queue-line'
import { createRedis, createRedisGuard, whenRedisReady } from '@tickets/shared/redis'
import { isolation } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisLineSummaries } from '../../src/adapters/redis-line-summaries.js'

const iso = isolation(import.meta.url)
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', iso.redisPrefix)
await whenRedisReady(redis, 2_000)
const summaries = createRedisLineSummaries(redis, { refreshMs: 60_000, maxAgeMs: 300, guard: createRedisGuard(redis, { timeoutMs: 500 }) })
afterAll(async () => {
  await summaries.stop()
  redis.disconnect()
})

const step = (at: number) =>
  redis.hset(queueLineSummaryKey('c1'), {
    at,
    head: 11,
    tail: 40,
    waiting: 20,
    rate: '2.5',
    dev: '',
    eff: '5',
    reason: 'PAUSED',
    open: '0',
    free: '7',
    held: '3',
    sp: '12',
    ob: '1.5',
    dr: '50',
    ttl: '600000',
    wttl: '86400',
    pre: '4',
  })

describe('createRedisLineSummaries', () => {
  it('when steps keep changing the summary, then it is current; once they stop for longer than the bound, it is not used', async () => {
    await step(1_000)
    expect(summaries.current('c1')).toBeNull()
    await summaries.refresh()
    // Read once: how old it is cannot be told from another host's clock until a step changes it.
    expect(summaries.current('c1')).toBeNull()
    await step(2_000)
    await summaries.refresh()
    expect(summaries.current('c1')).toEqual({
      at: 2_000,
      head: 11,
      tail: 40,
      waiting: 20,
      presale: 4,
      rates: { measuredRate: 2.5, deviation: null, effectiveRate: 5 },
      reason: 'PAUSED',
      open: false,
      free: 7,
      held: 3,
      spreadSeconds: 12,
      settings: { overbook: 1.5, fallbackRate: 50, activeTtlMs: 600_000, waitingTokenTtlMs: 86_400_000 },
    })
    await new Promise((r) => setTimeout(r, 400))
    await summaries.refresh()
    expect(summaries.current('c1')).toBeNull()
  })

  it('when a concert has no summary, then there is none to answer from', async () => {
    expect(summaries.current('never-stepped')).toBeNull()
    await summaries.refresh()
    expect(summaries.current('never-stepped')).toBeNull()
  })
})
