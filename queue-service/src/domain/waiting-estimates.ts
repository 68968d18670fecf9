import type { LineInfo } from './ports.js'

export const MIN_RETRY_S = 1
export const MAX_RETRY_S = 60

// Admissions per second assumed of a stalled line: a fan 100 places back is asked again in a minute.
const STALLED_RATE = 0.05

export interface WaitEstimate {
  seconds: number
  range: [number, number]
}

/**
 * Seconds until this position is admitted at the measured outflow (admissions per second over
 * recent steps), falling back to the rate the line may admit before anything was measured. The
 * range comes from the outflow's mean deviation: fast = rate + deviation (never above what the line
 * may admit), slow = rate - deviation (never below a quarter of the rate).
 */
export function estimateWait(position: number, line: Pick<LineInfo, 'measuredRate' | 'deviation' | 'effectiveRate'>, fallbackRate: number): WaitEstimate {
  const allowed = line.effectiveRate ?? fallbackRate
  const measured = line.measuredRate
  // A line that admitted nobody lately while fans waited is stalled (the free seats are spoken for by
  // ACTIVE fans): the allowed rate would promise what it cannot keep and bring everyone back at once.
  const rate = measured === null ? allowed : Math.max(measured, STALLED_RATE)
  if (rate <= 0) {
    const seconds = position * 60
    return { seconds, range: [seconds, seconds] }
  }
  const deviation = Math.max(0, line.deviation ?? 0)
  const fast = Math.max(rate, Math.min(rate + deviation, allowed))
  const slow = Math.max(rate - deviation, rate / 4)
  return { seconds: Math.ceil(position / rate), range: [Math.ceil(position / fast), Math.ceil(position / slow)] }
}

/**
 * How long a waiting fan should wait before polling again: a quarter of the estimated wait, from
 * 1 s near the front to 60 s far back, so the polls a fan makes grow with the logarithm of the
 * wait, not with the wait.
 */
export function retryAfterSeconds(estimatedWaitSeconds: number): number {
  return Math.min(MAX_RETRY_S, Math.max(MIN_RETRY_S, Math.ceil(estimatedWaitSeconds / 4)))
}

// A hold's seat counts as free only after booking's sweeper released it and the next step ran.
const RELEASE_LAG_S = 2
// Fans behind every held seat wait for the fans ahead to buy or let go of the seats that come back.
const SETTLE_S = 10
// ...and their returns are spread by position at about this many polls per second, so a line of
// 20,000 comes back over 20 s instead of at once; never more than SPREAD_CAP_S (which stays well
// under WAITING_IDLE_TIMEOUT_SECONDS: the idle clock of such a fan starts at the last hold's deadline).
export const HELD_RETURNS_PER_SECOND = 1_000
const SPREAD_CAP_S = 120

/**
 * While every unsold seat is on hold, nothing moves before a hold ends, so a fan is not brought
 * back before the hold that could free a seat for them has ended (`secondsToRelease`). A fan
 * behind every hold is brought back once the fans ahead have had time to buy, spread by position.
 * Not bound by the 60 s of the usual hint: the line cannot move sooner.
 */
export function retryAfterWhileHeld(input: { estimatedWaitSeconds: number; position: number; seatsOnHold: number; overbook: number; secondsToRelease: number }): number {
  const usual = retryAfterSeconds(input.estimatedWaitSeconds)
  const untilRelease = Math.ceil(input.secondsToRelease)
  const reach = Math.ceil(input.seatsOnHold * input.overbook)
  if (input.position <= reach) return Math.max(usual, untilRelease + RELEASE_LAG_S)
  const spread = Math.min(SPREAD_CAP_S, Math.floor((input.position - reach) / HELD_RETURNS_PER_SECOND))
  return Math.max(usual, untilRelease + SETTLE_S + spread)
}
