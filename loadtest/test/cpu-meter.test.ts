import { describe, expect, it } from 'vitest'
import { startCpuMeter } from '../src/runner/cpu-meter.js'

describe('startCpuMeter', () => {
  it('when the runner burns CPU, then its share per request counts it, and the machine counts at least as much', () => {
    const meter = startCpuMeter()
    const until = performance.now() + 60
    let x = 0
    while (performance.now() < until) x += Math.sqrt(x + 1)
    const use = meter.perRequest(10)
    expect(x).toBeGreaterThan(0)
    expect(use.runnerMicrosPerRequest).toBeGreaterThan(3_000)
    expect(use.machineMicrosPerRequest).not.toBeNull()
    expect(use.machineMicrosPerRequest!).toBeGreaterThan(1_000)
  })
})
