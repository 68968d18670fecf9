import { queueKeyTag } from './queue-token.js'

/**
 * The waiting line as the gateway may read it: the summary each admission step leaves, the
 * sightings of waiting fans, and the one estimate of a wait that both the queue service and the
 * gateway tell fans. The queue service owns the line; everything here is read-only for others.
 */

export const MIN_RETRY_S = 1
export const MAX_RETRY_S = 60

// Admissions per second assumed of a stalled line: a fan 100 places back is asked again in a minute.
const STALLED_RATE = 0.05

export type WaitReason = 'ALL_SEATS_HELD' | 'PAUSED' | 'NOT_OPEN_YET'

export interface LineRates {
  /** Admissions per second over recent steps (moving average) and its mean deviation. */
  measuredRate: number | null
  deviation: number | null
  /** The rate the last step allowed (the ceiling times the health factor). */
  effectiveRate: number | null
}

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
export function estimateWait(position: number, line: LineRates, fallbackRate: number): WaitEstimate {
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

/** ZSET userId -> last poll (ms) of WAITING fans: a fan not seen for a while drops out of line. */
export function queueWaitingSeenKey(concertId: string): string {
  return `${queueKeyTag(concertId)}:seen`
}

/** HASH: the line as the last admission step left it (see LineSummary). */
export function queueLineSummaryKey(concertId: string): string {
  return `${queueKeyTag(concertId)}:summary`
}

/**
 * What the last admission step saw after admitting: arrival numbers run from `head` (the first fan
 * still waiting) to `tail` (the last one given), with `waiting` fans still in line between them.
 */
export interface LineSummary {
  /** When the step ran (ms, the queue service's clock). */
  at: number
  head: number | null
  tail: number
  /** Every fan still waiting, presale places included. */
  waiting: number
  /** Of them, the presale places (all ahead of `head`); 0 from a step that did not count them. */
  presale: number
  rates: LineRates
  reason: WaitReason | null
  /** The step let everyone in, or the concert sold out: a poll needs the line itself. */
  open: boolean
  /** Seats neither sold nor held, and seats held; null before booking was asked. */
  free: number | null
  held: number | null
  /** Seconds over which fans within reach spread their polls; null from a step that set none. */
  spreadSeconds: number | null
  /** The queue service's settings that fans' answers depend on, so every gateway gives the same ones. */
  settings: { overbook: number; fallbackRate: number; activeTtlMs: number; waitingTokenTtlMs: number } | null
}

/** The hash fields, in the order the admission step writes them. */
export const LINE_SUMMARY_FIELDS = ['at', 'head', 'tail', 'waiting', 'rate', 'dev', 'eff', 'reason', 'open', 'free', 'held', 'ob', 'dr', 'ttl', 'wttl', 'sp', 'pre'] as const

const REASONS: ReadonlySet<string> = new Set<WaitReason>(['ALL_SEATS_HELD', 'PAUSED', 'NOT_OPEN_YET'])

function numberOrNull(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** Values as HMGET returns them for LINE_SUMMARY_FIELDS; null when the step never wrote one. */
export function parseLineSummary(values: readonly (string | null)[]): LineSummary | null {
  const [at, head, tail, waiting, rate, dev, eff, reason, open, free, held, ob, dr, ttl, wttl, sp, pre] = values
  const atMs = numberOrNull(at)
  const tailSeq = numberOrNull(tail)
  const count = numberOrNull(waiting)
  if (atMs === null || tailSeq === null || count === null) return null
  return {
    at: atMs,
    head: numberOrNull(head),
    tail: tailSeq,
    waiting: count,
    presale: Math.min(count, numberOrNull(pre) ?? 0),
    rates: { measuredRate: numberOrNull(rate), deviation: numberOrNull(dev), effectiveRate: numberOrNull(eff) },
    reason: reason && REASONS.has(reason) ? (reason as WaitReason) : null,
    open: open === '1',
    free: numberOrNull(free),
    held: numberOrNull(held),
    spreadSeconds: numberOrNull(sp),
    settings: settingsOf(numberOrNull(ob), numberOrNull(dr), numberOrNull(ttl), numberOrNull(wttl)),
  }
}

function settingsOf(overbook: number | null, fallbackRate: number | null, activeTtlMs: number | null, waitingTokenTtlS: number | null): LineSummary['settings'] {
  if (overbook === null || fallbackRate === null || activeTtlMs === null || waitingTokenTtlS === null) return null
  return { overbook, fallbackRate, activeTtlMs, waitingTokenTtlMs: waitingTokenTtlS * 1000 }
}
