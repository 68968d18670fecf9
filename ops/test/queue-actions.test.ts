import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { recentChanges } from '@tickets/contracts/operator-audit'
import { isolation } from '@tickets/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const iso = isolation(import.meta.url)
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: iso.redisPrefix })
afterAll(() => redis.quit())
const run = promisify(execFile)
const ops = (...args: string[]) => run(process.execPath, [cli, ...args], { env: { ...process.env, REDIS_PREFIX: iso.redisPrefix, OPERATOR_NAME: 'Kim' } })

describe('npm run ops -- queue:*', () => {
  it('when an operator sets rate and cap, pauses and switches modes, then Redis follows and the status is printed', async () => {
    await ops('queue:set-rate', 'c-ops', '25')
    await ops('queue:set-cap', 'c-ops', '300')
    await ops('queue:pause', 'c-ops')
    const { stdout } = await ops('queue:emergency', 'c-ops', 'let-all')
    expect(JSON.parse(stdout)).toMatchObject({ concertId: 'c-ops', ratePerSecond: 25, activeCap: 300, paused: true, emergency: 'let-all' })
    expect(await redis.hgetall('{q:c-ops}:cfg')).toEqual({ rate: '25', cap: '300', paused: '1', mode: 'let-all' })
    await ops('queue:resume', 'c-ops')
    await ops('queue:emergency', 'c-ops', 'off')
    expect(await redis.hgetall('{q:c-ops}:cfg')).toEqual({ rate: '25', cap: '300' })
    const changes = await recentChanges(redis, 10)
    expect(changes.map((c) => [c.who, c.action, c.target, c.value])).toEqual([
      ['Kim (ops cli)', 'queue:emergency', 'c-ops', 'off'],
      ['Kim (ops cli)', 'queue:resume', 'c-ops', undefined],
      ['Kim (ops cli)', 'queue:emergency', 'c-ops', 'let-all'],
      ['Kim (ops cli)', 'queue:pause', 'c-ops', undefined],
      ['Kim (ops cli)', 'queue:set-cap', 'c-ops', 300],
      ['Kim (ops cli)', 'queue:set-rate', 'c-ops', 25],
    ])
    // Six processes in a row, each loading the CLI: on two busy cores that alone can pass 30 s.
  }, 90_000)

  it("when an operator sets a concert's pre-queue window, then the line's settings hold it until set back to the default", async () => {
    const { stdout } = await ops('concert:pre-queue', 'c-window', '--window', '10m')
    expect(JSON.parse(stdout)).toMatchObject({ concertId: 'c-window', preQueueWindowSeconds: 600 })
    expect(await redis.hget('{q:c-window}:cfg', 'pqw')).toBe('600')
    await ops('concert:pre-queue', 'c-window', '--window', 'default')
    expect(await redis.hget('{q:c-window}:cfg', 'pqw')).toBeNull()
    for (const window of ['25h', '10', 'soon']) {
      await expect(ops('concert:pre-queue', 'c-window', '--window', window)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') })
    }
  }, 90_000)

  it('when the arguments are wrong, then it exits 2 with usage and changes nothing', async () => {
    for (const args of [
      ['queue:set-rate', 'c-bad', '-1'],
      ['queue:set-cap', 'c-bad', '2.5'],
      ['queue:emergency', 'c-bad', 'panic'],
      ['queue:pause', '{q:x}'],
    ]) {
      await expect(ops(...args)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') })
    }
    expect(await redis.exists('{q:c-bad}:cfg')).toBe(0)
  })
})
