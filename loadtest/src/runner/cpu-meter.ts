import { readFileSync } from 'node:fs'

/** Busy CPU time of the whole machine (every process, all cores) in microseconds, from /proc/stat; null off Linux. */
function machineBusyMicros(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
    const busyTicks = fields.reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0)
    return (busyTicks * 1e6) / 100
  } catch {
    return null
  }
}

export interface CpuUse {
  /** This runner's own CPU (user + system) per request, in microseconds. */
  runnerMicrosPerRequest: number
  /** Every process on the machine (the runner, the services, Redis, MariaDB, NATS...) per request. */
  machineMicrosPerRequest: number | null
}

/**
 * How much CPU a run cost per request: the runner's own (it plays every fan on the same cores as the
 * system under test, so it takes a share of what the system could have had) and the machine's.
 */
export function startCpuMeter() {
  const runner = process.cpuUsage()
  const machine = machineBusyMicros()
  return {
    perRequest(requests: number): CpuUse {
      const used = process.cpuUsage(runner)
      const machineNow = machineBusyMicros()
      const n = Math.max(1, requests)
      return {
        runnerMicrosPerRequest: (used.user + used.system) / n,
        machineMicrosPerRequest: machine === null || machineNow === null ? null : (machineNow - machine) / n,
      }
    },
  }
}
