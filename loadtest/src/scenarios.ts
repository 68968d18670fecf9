/**
 * The load scenarios, defined once as data. Both runners read these: the k6 scripts in k6/ and the
 * Node runner in src/runner/. Pure data and arithmetic only: this file is also loaded by k6.
 */

export interface Stage {
  /** Seconds this stage lasts. */
  durationSeconds: number
  /** Arrivals per second at the end of the stage (linear from the previous stage's target). */
  targetRate: number
}

export interface Thresholds {
  /** p95 of every step, in milliseconds (the manual's 4.1: p95 < 500 ms). */
  p95Ms: number
  /** Share of requests that fail unexpectedly (the manual's 4.1: errors < 0.1%). */
  errorRate: number
}

export interface UserMix {
  /** Share of fans who give up while waiting in line (they leave with DELETE). */
  abandonInLine: number
  /** Share of fans who hold a seat and never pay (the hold expires by itself). */
  abandonHold: number
  /** Share of fans who start with too few points and charge before paying. */
  chargeFirst: number
}

export interface Scenario {
  name: 'ticket-open' | 'ticket-open-pre-queue' | 'token-storm' | 'browse' | 'soak'
  description: string
  stages: Stage[]
  mix: UserMix
  /** Think time between a fan's steps, in milliseconds (uniform between min and max). */
  thinkMs: { min: number; max: number }
  /** Retries of a hold on 409 with another free seat. */
  holdAttempts: number
  /** What each arrival does. */
  journey: 'buy' | 'join-and-poll' | 'browse' | 'mixed'
  thresholds: Thresholds
  /** The concert each run puts on sale (when none is given): a small house sells out, as on an opening day. */
  house: { dates: number; seatsPerDate: number }
  /**
   * The longest one arrival stays, in seconds: waiting in line before it gives up, then its visit
   * (buying once admitted, giving the slot back, or browsing). The k6 scripts hold each fan to it
   * and size their executor by it: every fan still there holds a k6 VU.
   */
  stay: { lineSeconds: number; visitSeconds: number }
  /**
   * The concert opens this many seconds into the run, its pre-queue open from the start: fans who
   * arrive before the opening are placed by the draw, the others join behind them.
   */
  preQueue?: { opensAtSeconds: number }
}

export const MANUAL_THRESHOLDS: Thresholds = { p95Ms: 500, errorRate: 0.001 }

export interface ScenarioOptions {
  users?: number
  rampSeconds?: number
  durationSeconds?: number
  rate?: number
}

/** ticket-open: N fans arrive for one concert over a ramp; each joins, waits, buys. */
export function ticketOpen({ users = 20_000, rampSeconds = 60 }: ScenarioOptions = {}): Scenario {
  // A linear ramp from 0 to a peak rate p over the ramp brings p * ramp / 2 arrivals.
  const peak = (2 * users) / rampSeconds
  return {
    name: 'ticket-open',
    description: `${users} fans arrive for one concert over ${rampSeconds} s, join the line, poll, and buy`,
    stages: [{ durationSeconds: rampSeconds, targetRate: peak }],
    mix: { abandonInLine: 0.05, abandonHold: 0.05, chargeFirst: 0.3 },
    thinkMs: { min: 200, max: 1_000 },
    holdAttempts: 3,
    journey: 'buy',
    thresholds: MANUAL_THRESHOLDS,
    house: { dates: 2, seatsPerDate: 50 },
    // An admitted fan's slot lasts 10 minutes (the queue's ACTIVE_TTL_SECONDS).
    stay: { lineSeconds: 900, visitSeconds: 600 },
  }
}

/**
 * ticket-open with a pre-queue: the arrivals rise to a peak at the opening and fall after it, so
 * half of the fans arrive in the pre-queue (placed by the draw) and half after the opening.
 */
export function ticketOpenPreQueue({ users = 20_000, rampSeconds = 60 }: ScenarioOptions = {}): Scenario {
  const open = ticketOpen({ users, rampSeconds })
  const half = rampSeconds / 2
  // A triangle of height p over the ramp brings p * ramp / 2 arrivals, half on each side of the peak.
  const peak = (2 * users) / rampSeconds
  return {
    ...open,
    name: 'ticket-open-pre-queue',
    description: `${users} fans arrive for one concert over ${rampSeconds} s, half in the pre-queue before the opening at ${half} s, half after it; they join, poll, and buy`,
    stages: [
      { durationSeconds: half, targetRate: peak },
      { durationSeconds: half, targetRate: 0 },
    ],
    preQueue: { opensAtSeconds: half },
  }
}

/** token-storm: only joins and polls, at a rising arrival rate, to find the knee. */
export function tokenStorm({ rate = 2_000, durationSeconds = 60 }: ScenarioOptions = {}): Scenario {
  return {
    name: 'token-storm',
    description: `joins and polls only, arrivals rising to ${rate}/s over ${durationSeconds} s`,
    stages: [
      { durationSeconds: durationSeconds / 2, targetRate: rate / 2 },
      { durationSeconds: durationSeconds / 2, targetRate: rate },
    ],
    mix: { abandonInLine: 0, abandonHold: 0, chargeFirst: 0 },
    thinkMs: { min: 0, max: 0 },
    holdAttempts: 0,
    journey: 'join-and-poll',
    thresholds: MANUAL_THRESHOLDS,
    house: { dates: 2, seatsPerDate: 50 },
    stay: { lineSeconds: 30, visitSeconds: 10 },
  }
}

/** browse: catalogue and seat-map reads at a steady rate (the cache's job). */
export function browse({ rate = 200, durationSeconds = 60 }: ScenarioOptions = {}): Scenario {
  return {
    name: 'browse',
    description: `catalogue and seat-map reads at ${rate} arrivals/s for ${durationSeconds} s`,
    stages: [
      { durationSeconds: 5, targetRate: rate },
      { durationSeconds: Math.max(1, durationSeconds - 5), targetRate: rate },
    ],
    mix: { abandonInLine: 0, abandonHold: 0, chargeFirst: 0 },
    thinkMs: { min: 50, max: 300 },
    holdAttempts: 0,
    journey: 'browse',
    thresholds: MANUAL_THRESHOLDS,
    house: { dates: 2, seatsPerDate: 50 },
    stay: { lineSeconds: 0, visitSeconds: 10 },
  }
}

/** soak: a modest mix for a long time, watching memory and latency drift. */
export function soak({ rate = 20, durationSeconds = 30 * 60 }: ScenarioOptions = {}): Scenario {
  return {
    name: 'soak',
    description: `a modest mix at ${rate} arrivals/s for ${Math.round(durationSeconds / 60)} min`,
    stages: [
      { durationSeconds: 30, targetRate: rate },
      { durationSeconds: Math.max(1, durationSeconds - 30), targetRate: rate },
    ],
    mix: { abandonInLine: 0.1, abandonHold: 0.2, chargeFirst: 0.3 },
    thinkMs: { min: 500, max: 3_000 },
    holdAttempts: 3,
    journey: 'mixed',
    thresholds: MANUAL_THRESHOLDS,
    // Big enough not to sell out: a soak that sold out after a few minutes would spend the rest of
    // its time on refused joins and browsing (half the arrivals try to buy, one seat each).
    house: { dates: 20, seatsPerDate: Math.min(5_000, Math.max(50, Math.ceil((rate * durationSeconds) / 2 / 20))) },
    stay: { lineSeconds: 300, visitSeconds: 600 },
  }
}

export const SCENARIOS = { 'ticket-open': ticketOpen, 'ticket-open-pre-queue': ticketOpenPreQueue, 'token-storm': tokenStorm, browse, soak } as const
export type ScenarioName = keyof typeof SCENARIOS

/** Arrival rate (per second) at time t seconds into the run. */
export function rateAt(stages: Stage[], t: number): number {
  let start = 0
  let from = 0
  for (const stage of stages) {
    if (t < start + stage.durationSeconds) return from + ((stage.targetRate - from) * (t - start)) / stage.durationSeconds
    start += stage.durationSeconds
    from = stage.targetRate
  }
  return 0
}

export function totalSeconds(stages: Stage[]): number {
  return stages.reduce((sum, s) => sum + s.durationSeconds, 0)
}

/** Arrivals over the whole run (the area under the rate, from 0). */
export function totalArrivals(stages: Stage[]): number {
  let from = 0
  let sum = 0
  for (const stage of stages) {
    sum += ((from + stage.targetRate) / 2) * stage.durationSeconds
    from = stage.targetRate
  }
  return sum
}

/**
 * The most arrivals present at once when each stays at most `staySeconds`: the peak rate times the
 * stay, and never more than every arrival of the run.
 */
export function mostPresentAtOnce(stages: Stage[], staySeconds: number): number {
  const peak = Math.max(0, ...stages.map((s) => s.targetRate))
  return Math.ceil(Math.min(totalArrivals(stages), peak * staySeconds))
}

/**
 * Arrival times (seconds from start) of an open model: the cumulative arrivals curve of the stages,
 * inverted, so the n-th fan arrives when the integral of the rate reaches n. Deterministic.
 */
export function arrivalTimes(stages: Stage[], limit = Number.POSITIVE_INFINITY): number[] {
  const times: number[] = []
  const step = 0.001
  const end = totalSeconds(stages)
  let acc = 0
  for (let t = 0; t < end && times.length < limit; t += step) {
    acc += rateAt(stages, t) * step
    while (acc >= 1 && times.length < limit) {
      times.push(t)
      acc -= 1
    }
  }
  return times
}

/** The step of a join sent again with a solved challenge: refused again, it is a failure. */
export const JOIN_WITH_PROOF = 'join_proof'

/**
 * Outcomes that are part of the contract under load, not failures: lost seat races, limits,
 * shedding. `retry`: the call repeats one answered 429 or 503, whose first attempt may still have
 * been done (a leave whose answer missed its deadline), so a leave finding no place is the leave done.
 */
export function isExpectedStatus(step: string, status: number, hasRetryAfter: boolean, retry = false): boolean {
  if (status < 400) return true
  if (step === 'hold' && status === 409) return true
  if ((step === 'join' || step === JOIN_WITH_PROOF) && status === 409) return true // sold out
  if (step === 'join' && status === 403) return true // the join challenge: the fan solves it and joins again with the proof
  if (step === 'leave' && status === 404 && retry) return true
  if ((status === 429 || status === 503) && hasRetryAfter) return true
  return false
}
