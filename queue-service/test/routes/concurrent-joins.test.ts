import { isolation } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { aConcertId, buildTestApp, join } from '../helpers/build-test-app.js'

const iso = isolation(import.meta.url)
// This file is about order under concurrency, not about the fail-fast deadline (redis-down.test.ts
// covers that): a loaded CI machine must not turn a slow join into a 503 here.
const instanceA = await buildTestApp(iso, { INSTANCE_ID: 'queue-a', QUEUE_REDIS_TIMEOUT_MS: '5000' })
const instanceB = await buildTestApp(iso, { INSTANCE_ID: 'queue-b', QUEUE_REDIS_TIMEOUT_MS: '5000' })
const FANS = 2_000

describe('joining one concert through two instances', () => {
  it('when 2,000 fans join at once, then positions are exactly 1..2,000, and joining again changes nothing', async () => {
    const concertId = aConcertId()
    const fans = Array.from({ length: FANS }, (_, i) => `fan-${i}`)
    const first = await Promise.all(fans.map((fan, i) => join(i % 2 ? instanceA : instanceB, fan, concertId)))
    expect(first.filter((r) => r.statusCode !== 201).map((r) => r.json().code)).toEqual([])
    const positions = first.map((r) => r.json().position as number).sort((a, b) => a - b)
    expect(positions).toEqual(Array.from({ length: FANS }, (_, i) => i + 1))

    const again = await Promise.all(fans.map((fan, i) => join(i % 2 ? instanceB : instanceA, fan, concertId)))
    expect(again.map((r) => [r.json().position, r.json().token])).toEqual(first.map((r) => [r.json().position, r.json().token]))
    expect(await instanceA.redis.zcard(`{q:${concertId}}:waiting`)).toBe(FANS)
  })
})
