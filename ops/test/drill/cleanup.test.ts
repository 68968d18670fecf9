import { spawn } from 'node:child_process'
import { canConnect } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { stopAll, stopLater } from '../../src/drill/cleanup.js'

describe('stopLater', () => {
  it('runs a stop once however often it is asked, and stopAll no longer sees it', async () => {
    let stops = 0
    const stop = stopLater('a server', async () => {
      stops++
    })
    await Promise.all([stop(), stop()])
    await stopAll()
    expect(stops).toBe(1)
  })

  it('when a stop hangs, then stopAll names it after its timeout instead of waiting for ever', async () => {
    stopLater('a hung server', () => new Promise(() => undefined))
    expect(await stopAll(100)).toEqual(['a hung server'])
  })
})

describe('stopAllOnExit', () => {
  it('when a drill is interrupted with Ctrl-C, then the throw-away server it started is stopped before it exits', async () => {
    const cleanup = new URL('../../dist/drill/cleanup.js', import.meta.url).href
    const script = `
      import { startThrowawayRedis } from '@tickets/testkit'
      import { stopAllOnExit, stopLater } from '${cleanup}'
      stopAllOnExit(() => undefined)
      const redis = await startThrowawayRedis()
      stopLater('throw-away Redis', () => redis.dispose())
      console.log(redis.port)
      setInterval(() => undefined, 1_000)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), stdio: ['ignore', 'pipe', 'inherit'] })
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))))
    expect(await canConnect('127.0.0.1', port)).toBe(true)
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(await canConnect('127.0.0.1', port)).toBe(false)
  }, 30_000)
})
