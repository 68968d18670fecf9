/**
 * Whether a script's executor can hold every fan it starts: the stand-in ran a few iterations and
 * knows the longest one (in its own clock); an arrival-rate executor needs a VU for each fan still
 * there, and a run that lasts until the last fan leaves.
 */

// What k6 documents for every scenario, and for the ramping-arrival-rate executor.
const COMMON_OPTIONS = ['executor', 'startTime', 'gracefulStop', 'exec', 'env', 'tags', 'options']
const RAMPING_ARRIVAL_RATE_OPTIONS = [...COMMON_OPTIONS, 'stages', 'preAllocatedVUs', 'startRate', 'timeUnit', 'maxVUs']

const DURATION = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s)/g
const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 }

/** A k6 duration ("90s", "1m30s", "250ms") in seconds, or undefined when it is not one. */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string' || !DURATION.test(value)) return undefined
  let seconds = 0
  for (const [, n, unit] of value.matchAll(PART)) seconds += Number(n) * UNIT_SECONDS[unit!]!
  return seconds
}

interface Piece {
  start: number
  end: number
  fromRate: number
  toRate: number
}

/** Arrivals started in [0, t]: the area under the piecewise linear rate. */
function arrivalsBy(pieces: Piece[], t: number): number {
  let sum = 0
  for (const p of pieces) {
    if (t <= p.start) break
    const until = Math.min(t, p.end)
    const rateAtUntil = p.end === p.start ? p.toRate : p.fromRate + ((p.toRate - p.fromRate) * (until - p.start)) / (p.end - p.start)
    sum += ((p.fromRate + rateAtUntil) / 2) * (until - p.start)
  }
  return sum
}

function rateAt(pieces: Piece[], t: number): number {
  const p = pieces.find((x) => t >= x.start && t < x.end)
  return p ? p.fromRate + ((p.toRate - p.fromRate) * (t - p.start)) / (p.end - p.start) : 0
}

/**
 * The most arrivals within any `stay` seconds, exactly: the window's count is piecewise quadratic,
 * so its maximum is at a stage boundary (or one `stay` after it), or where the rate entering the
 * window equals the rate leaving it.
 */
function mostWithin(pieces: Piece[], stay: number): number {
  const bounds = pieces.flatMap((p) => [p.start, p.end])
  const points = [...new Set([...bounds, ...bounds.map((b) => b + stay)])].sort((a, b) => a - b)
  const candidates = [...points]
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1]!, points[i]!]
    const slope = (t: number) => rateAt(pieces, t) - rateAt(pieces, t - stay)
    const [fa, fb] = [slope(a + (b - a) * 1e-9), slope(b - (b - a) * 1e-9)]
    if (fa > 0 && fb < 0) candidates.push(a + ((b - a) * fa) / (fa - fb))
  }
  return Math.max(0, ...candidates.map((t) => arrivalsBy(pieces, t) - arrivalsBy(pieces, Math.max(0, t - stay))))
}

function rampingArrivalRateProblems(name: string, config: Record<string, unknown>, longestIterationSeconds: number): string[] {
  const problems = Object.keys(config)
    .filter((key) => !RAMPING_ARRIVAL_RATE_OPTIONS.includes(key))
    .map((key) => `scenario "${name}": "${key}" is not an option k6 documents for ramping-arrival-rate`)
  const unit = config.timeUnit === undefined ? 1 : durationSeconds(config.timeUnit)
  const gracefulStop = config.gracefulStop === undefined ? 30 : durationSeconds(config.gracefulStop)
  const stages = Array.isArray(config.stages) ? (config.stages as { duration?: unknown; target?: unknown }[]) : []
  const preAllocated = config.preAllocatedVUs
  const max = config.maxVUs ?? preAllocated
  if (!unit || gracefulStop === undefined || stages.length === 0 || typeof preAllocated !== 'number' || typeof max !== 'number') {
    return [...problems, `scenario "${name}": ramping-arrival-rate needs stages, preAllocatedVUs and well-formed durations`]
  }
  const pieces: Piece[] = []
  let at = 0
  let rate = typeof config.startRate === 'number' ? config.startRate / unit : 0
  for (const stage of stages) {
    const seconds = durationSeconds(stage.duration)
    if (seconds === undefined || typeof stage.target !== 'number') return [...problems, `scenario "${name}": a stage needs a duration and a target`]
    pieces.push({ start: at, end: at + seconds, fromRate: rate, toRate: stage.target / unit })
    at += seconds
    rate = stage.target / unit
  }
  const stay = longestIterationSeconds
  const present = Math.ceil(mostWithin(pieces, stay) - 1e-9)
  if (max < present) {
    problems.push(
      `scenario "${name}": maxVUs ${max} cannot hold the line: up to ${present} fans are there at once (arrivals within ${stay} s, the longest iteration); k6 drops the others`,
    )
  } else if (preAllocated < present) {
    problems.push(`scenario "${name}": preAllocatedVUs ${preAllocated} leaves k6 to allocate up to ${present} VUs while fans arrive`)
  }
  const lastArrival = [...pieces].reverse().find((p) => p.fromRate > 0 || p.toRate > 0)?.end ?? 0
  if (lastArrival + stay > at + gracefulStop) {
    problems.push(
      `scenario "${name}": the run ends ${Math.round(lastArrival + stay - at - gracefulStop)} s before its last fan leaves: gracefulStop ${gracefulStop} s after the stages, iterations last ${stay} s`,
    )
  }
  return problems
}

/** What k6 would do wrong with these scenarios, given the longest iteration the stand-in saw. */
export function executorProblems(scenarios: Record<string, unknown> | undefined, longestIterationSeconds: number): string[] {
  return Object.entries(scenarios ?? {}).flatMap(([name, value]) => {
    const config = (value ?? {}) as Record<string, unknown>
    if (config.executor !== 'ramping-arrival-rate') return [`scenario "${name}": the k6 stand-in judges only ramping-arrival-rate executors, not ${String(config.executor)}`]
    return rampingArrivalRateProblems(name, config, longestIterationSeconds)
  })
}
