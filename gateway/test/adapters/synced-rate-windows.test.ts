import { isolation } from '@tickets/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { SyncedWindows } from '../../src/adapters/synced-rate-windows.js'

const iso = isolation(import.meta.url)
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: iso.redisPrefix })
// Every key the windows write expires with its window: nothing is left to clean up.
afterAll(() => redis.quit())

let usable = true
const errors: unknown[] = []
/** One gateway instance's windows; a long interval so that only the test's own sync() calls share counts. */
function anInstance(syncMs = 60_000) {
  const windows = new SyncedWindows(redis, { syncMs, redisUsable: () => usable, onSyncError: (err) => errors.push(err) })
  afterAll(() => windows.close())
  return windows
}
let n = 0
const newKey = () => `rl:test:${++n}`

describe('synced rate windows', () => {
  it('when one instance counts, then each hit is counted at once, with no round trip', () => {
    const a = anInstance()
    const key = newKey()
    expect([1, 2, 3].map(() => a.incr(key, 1_000).current)).toEqual([1, 2, 3])
    expect(a.incr(newKey(), 1_000).current).toBe(1)
  })

  it('when instances sync, then each counts the hits the others took', async () => {
    const [a, b] = [anInstance(), anInstance()]
    const key = newKey()
    for (let i = 0; i < 6; i++) a.incr(key, 10_000)
    b.incr(key, 10_000)
    await a.sync()
    await b.sync()
    expect(b.incr(key, 10_000).current).toBe(8)
    // Until it syncs again, an instance decides with the total it last heard.
    expect(a.incr(key, 10_000).current).toBe(7)
    await a.sync()
    expect(a.incr(key, 10_000).current).toBe(9)
    await b.sync()
    expect(await redis.get(key)).toBe('9')
  })

  it('when the interval passes, then the counts are shared without being asked', async () => {
    const [a, b] = [anInstance(20), anInstance(20)]
    const key = newKey()
    for (let i = 0; i < 5; i++) a.incr(key, 10_000)
    await expect.poll(() => redis.get(key), { timeout: 2_000, interval: 10 }).toBe('5')
    b.incr(key, 10_000)
    await expect.poll(() => b.incr(key, 10_000).current, { timeout: 2_000, interval: 30 }).toBeGreaterThan(7)
  })

  it('when the window ends, then the count starts again, here and in Redis', async () => {
    const a = anInstance()
    const key = newKey()
    for (let i = 0; i < 3; i++) a.incr(key, 150)
    await a.sync()
    expect(await redis.pttl(key)).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 200))
    expect(a.incr(key, 150).current).toBe(1)
    await a.sync()
    expect(await redis.get(key)).toBe('1')
  })

  it('when Redis cannot take the hits, then this instance still counts them', async () => {
    const a = anInstance()
    const key = newKey()
    usable = false
    try {
      for (let i = 0; i < 4; i++) a.incr(key, 10_000)
      await a.sync()
      expect(a.incr(key, 10_000).current).toBe(5)
      expect(await redis.get(key)).toBeNull()
    } finally {
      usable = true
    }
  })
})
