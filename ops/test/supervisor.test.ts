import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
// scripts/ is plain Node run before anything is built, not a package: imported by path.
import { createRestartPolicy, supervise } from '../../scripts/supervisor.mjs'

describe('createRestartPolicy', () => {
  it('when an instance keeps crashing at once, then the delay doubles from 0.5 s to at most 10 s', () => {
    const policy = createRestartPolicy({ crashLoopCount: 100 })
    const delays = Array.from({ length: 7 }, (_, i) => policy.onCrash({ ranMs: 100, at: i * 100_000 }))
    expect(delays.map((d) => d.action === 'restart' && d.delayMs)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000])
    expect(delays.map((d) => d.action === 'restart' && d.restart)).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it('when a run stayed up for 60 s, then the next delay starts again at 0.5 s but the restart count goes on', () => {
    const policy = createRestartPolicy()
    policy.onCrash({ ranMs: 100, at: 0 })
    policy.onCrash({ ranMs: 100, at: 1_000 })
    expect(policy.onCrash({ ranMs: 60_000, at: 100_000 })).toEqual({ action: 'restart', delayMs: 500, restart: 3 })
  })

  it('when it crashes 5 times within 60 s, then it is given up; 5 crashes spread over longer are not a loop', () => {
    const looping = createRestartPolicy()
    const decisions = [0, 2_000, 5_000, 10_000, 20_000].map((at) => looping.onCrash({ ranMs: 1_000, at }))
    expect(decisions.slice(0, 4).every((d) => d.action === 'restart')).toBe(true)
    expect(decisions[4]).toEqual({ action: 'give-up', crashes: 5, windowMs: 60_000 })

    const spread = createRestartPolicy()
    const slow = [0, 20_000, 40_000, 61_000, 80_000].map((at) => spread.onCrash({ ranMs: 15_000, at }))
    expect(slow.every((d) => d.action === 'restart')).toBe(true)
  })
})

class FakeChild extends EventEmitter {
  signals: string[] = []
  kill(signal: string) {
    this.signals.push(signal)
    setImmediate(() => this.emit('exit', null, signal))
    return true
  }
}

/** Instances a and b under supervise, on fake children: each one started, and every log line. */
function superviseTwo() {
  const started: Record<string, FakeChild[]> = { a: [], b: [] }
  const log: string[] = []
  const sup = supervise({
    plan: [{ id: 'a' }, { id: 'b' }],
    start: (p: { id: string }) => {
      const child = new FakeChild()
      started[p.id]!.push(child)
      return child
    },
    log: (line: string) => log.push(line),
  })
  return { started, log, sup }
}

describe('supervise', () => {
  it('when one instance exits, then only it restarts after the delay, logged once, and stop() ends them all', async () => {
    vi.useFakeTimers()
    try {
      const { started, log, sup } = superviseTwo()
      started.a![0]!.emit('exit', null, 'SIGKILL')
      expect(log).toEqual(['a exited (SIGKILL); restarting in 0.5 s (restart 1)'])
      await vi.advanceTimersByTimeAsync(499)
      expect(started.a).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(1)
      expect(started.a).toHaveLength(2)
      expect(started.b).toHaveLength(1)
      expect(sup.status()).toEqual({ a: { running: true, restarts: 1, down: false }, b: { running: true, restarts: 0, down: false } })

      const stopped = sup.stop(1_000)
      await vi.advanceTimersByTimeAsync(10)
      await stopped
      expect(started.a![1]!.signals).toEqual(['SIGTERM'])
      expect(started.b![0]!.signals).toEqual(['SIGTERM'])
      expect(log).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('when an instance crash-loops, then it is left down and the others run on, until revive() starts it again', async () => {
    vi.useFakeTimers()
    try {
      const { started, log, sup } = superviseTwo()
      for (let i = 0; i < 5; i++) {
        started.a!.at(-1)!.emit('exit', 1, null)
        await vi.advanceTimersByTimeAsync(10_000)
      }
      expect(started.a).toHaveLength(5)
      expect(log.at(-1)).toBe('a exited (code 1) after 5 crashes within 60 s: leaving it down; the other instances keep running')
      expect(log).toHaveLength(5)
      expect(sup.status().a).toMatchObject({ running: false, down: true })
      expect(sup.status().b).toMatchObject({ running: true, restarts: 0 })
      await vi.advanceTimersByTimeAsync(120_000)
      expect(started.a).toHaveLength(5)

      expect(sup.revive()).toEqual(['a'])
      expect(started.a).toHaveLength(6)
      expect(log.at(-1)).toBe('a started again (it had been left down)')
      expect(sup.status().a).toMatchObject({ running: true, down: false })
      started.a!.at(-1)!.emit('exit', 1, null)
      await vi.advanceTimersByTimeAsync(500)
      expect(started.a).toHaveLength(7)
      expect(sup.revive()).toEqual([])
    } finally {
      vi.useRealTimers()
    }
  })
})
