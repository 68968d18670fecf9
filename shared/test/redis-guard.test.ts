import { startThrowawayRedis } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedis, createRedisGuard, whenRedisReady } from '../src/redis.js'

const server = await startThrowawayRedis()
const redis = createRedis(server.url, 'guard:')
await whenRedisReady(redis, 2_000)
afterAll(async () => {
  redis.disconnect()
  await server.dispose()
})

describe('createRedisGuard', () => {
  it('when a command is refused, then by default the guard pauses; with pauseOn silence only that call fails', async () => {
    const pausing = createRedisGuard(redis, { timeoutMs: 500 })
    const quiet = createRedisGuard(redis, { timeoutMs: 500, pauseOn: 'silence' })
    for (const guard of [pausing, quiet]) await expect(guard.run(() => redis.call('NO-SUCH-COMMAND'))).rejects.toThrow(/unknown command/i)
    expect(pausing.usable()).toBe(false)
    expect(quiet.usable()).toBe(true)
    await expect(quiet.run(() => redis.set('k', 'v'))).resolves.toBe('OK')
  })

  it('when Redis does not answer, then the call fails within the timeout and the next calls fail at once, asking nothing', async () => {
    const guard = createRedisGuard(redis, { timeoutMs: 100, retryMs: 60_000, pauseOn: 'silence' })
    await server.pause()
    try {
      const started = Date.now()
      await expect(guard.run(() => redis.get('k'))).rejects.toThrow(/did not answer within 100 ms/)
      expect(Date.now() - started).toBeLessThan(1_000)
      let asked = false
      await expect(
        guard.run(async () => {
          asked = true
          return 'x'
        }),
      ).rejects.toThrow(/not asked/)
      expect(asked).toBe(false)
    } finally {
      server.resume()
    }
  })
})
