import { describe, expect, it } from 'vitest'
import { startCpuMeter } from '../src/runner/cpu-meter.js'

describe('startCpuMeter', () => {
  it('when the runner burns CPU, then its share per request counts it, and the machine counts at least as much', () => {
    const meter = startCpuMeter()
    // Burns 40 ms of this process's own CPU, however long a busy machine takes to give it.
    const start = process.cpuUsage()
    let x = 0
    while (cpuMicrosSince(start) < 40_000) for (let i = 0; i < 1_000; i++) x += Math.sqrt(x + 1)
    const use = meter.perRequest(10)
    expect(x).toBeGreaterThan(0)
    expect(use.runnerMicrosPerRequest).toBeGreaterThanOrEqual(4_000)
    expect(use.machineMicrosPerRequest).not.toBeNull()
    // The machine's count comes in ticks of 10 ms: 40 ms of this process is at least 30 ms of it.
    expect(use.machineMicrosPerRequest!).toBeGreaterThanOrEqual(3_000)
  })
})

function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return used.user + used.system
}
