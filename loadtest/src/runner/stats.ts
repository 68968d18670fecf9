/** Everything the runner measures, per step and per second of the run. */
import * as hdr from 'hdr-histogram-js'
import { LineLedger } from './line-ledger.js'

type Histogram = hdr.Histogram

export interface SecondBucket {
  arrivals: number
  requests: number
  statuses: Record<string, number>
  /** Per step, in milliseconds: the second's percentiles, kept instead of its samples. */
  p95: Record<string, number>
  p99: Record<string, number>
  inLine: number
  active: number
  sold: number
  admitted: number
  unexpected: number
}

export interface StepSummary {
  step: string
  count: number
  p50: number
  p95: number
  p99: number
  max: number
  statuses: Record<string, number>
}

const RECENT_SECONDS = 5

/**
 * Latencies in microseconds, 3 significant digits (every percentile within 0.1%), in a fixed-size
 * histogram: a 30-minute soak takes as much memory for them as a 30-second run.
 */
function latencyHistogram(): Histogram {
  return hdr.build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, autoResize: true })
}

function toMicros(ms: number): number {
  return Math.max(1, Math.round(ms * 1000))
}

function atPercentile(h: Histogram, p: number): number {
  return h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000
}

export class Stats {
  readonly startedAt = Date.now()
  readonly byStep = new Map<string, Histogram>()
  readonly statusByStep = new Map<string, Record<string, number>>()
  /** Who joined the line, how often each polled, when each was admitted (bounded by the fans). */
  readonly line = new LineLedger()
  private readonly buckets: SecondBucket[] = []
  /** The current second's latencies per step, sealed into its bucket when the second is over. */
  private readonly thisSecond = new Map<string, Histogram>()
  /** All steps, one histogram per second for the last few seconds (a ring), for the progress line. */
  private readonly recent = Array.from({ length: RECENT_SECONDS }, latencyHistogram)
  private readonly recentMerged = latencyHistogram()
  requests = 0
  unexpected = 0
  expectedRejections = 0
  arrivals = 0
  inLine = 0
  active = 0
  admitted = 0
  sold = 0
  finished = 0
  abandoned = 0

  private bucket(): SecondBucket {
    const s = Math.floor((Date.now() - this.startedAt) / 1000)
    if (this.buckets.length <= s) this.sealCurrentSecond()
    while (this.buckets.length <= s) {
      this.buckets.push({
        arrivals: 0,
        requests: 0,
        statuses: {},
        p95: {},
        p99: {},
        inLine: this.inLine,
        active: this.active,
        sold: this.sold,
        admitted: this.admitted,
        unexpected: 0,
      })
      this.recent[(this.buckets.length - 1) % RECENT_SECONDS]!.reset()
    }
    return this.buckets[s]!
  }

  private sealCurrentSecond() {
    const current = this.buckets.at(-1)
    if (!current) return
    for (const [step, h] of this.thisSecond) {
      current.p95[step] = atPercentile(h, 95)
      current.p99[step] = atPercentile(h, 99)
      h.reset()
    }
  }

  /** One bucket per second of the run so far, the current one included. */
  timeline(): SecondBucket[] {
    const current = this.buckets.at(-1)
    if (current) {
      for (const [step, h] of this.thisSecond) {
        if (h.totalCount === 0) continue
        current.p95[step] = atPercentile(h, 95)
        current.p99[step] = atPercentile(h, 99)
      }
    }
    return this.buckets
  }

  arrival() {
    this.arrivals++
    this.bucket().arrivals++
  }

  /** `failure`: for a request that got no answer (status 0), what the client said (an error code). */
  request(step: string, status: number, ms: number, expected: boolean, failure?: string) {
    this.requests++
    const b = this.bucket()
    b.requests++
    const key = status === 0 ? (failure ? `network ${failure}` : 'network') : String(status)
    b.statuses[key] = (b.statuses[key] ?? 0) + 1
    const micros = toMicros(ms)
    let all = this.byStep.get(step)
    if (!all) this.byStep.set(step, (all = latencyHistogram()))
    all.recordValue(micros)
    let second = this.thisSecond.get(step)
    if (!second) this.thisSecond.set(step, (second = latencyHistogram()))
    second.recordValue(micros)
    this.recent[(this.buckets.length - 1) % RECENT_SECONDS]!.recordValue(micros)
    const byStatus = this.statusByStep.get(step) ?? {}
    byStatus[key] = (byStatus[key] ?? 0) + 1
    this.statusByStep.set(step, byStatus)
    if (!expected) {
      this.unexpected++
      b.unexpected++
    } else if (status >= 400) this.expectedRejections++
  }

  gauge(update: Partial<Pick<Stats, 'inLine' | 'active' | 'sold' | 'admitted'>>) {
    Object.assign(this, update)
    const b = this.bucket()
    b.inLine = this.inLine
    b.active = this.active
    b.sold = this.sold
    b.admitted = this.admitted
  }

  stepSummary(): StepSummary[] {
    return [...this.byStep.entries()].map(([step, h]) => ({
      step,
      count: h.totalCount,
      p50: atPercentile(h, 50),
      p95: atPercentile(h, 95),
      p99: atPercentile(h, 99),
      max: h.totalCount === 0 ? 0 : h.maxValue / 1000,
      statuses: this.statusByStep.get(step) ?? {},
    }))
  }

  /** p95 over the last few seconds of all steps, for the progress line. */
  recentP95(): number {
    this.bucket()
    this.recentMerged.reset()
    for (const h of this.recent) this.recentMerged.add(h)
    return atPercentile(this.recentMerged, 95)
  }

  recentRate(window = 3): number {
    const recent = this.buckets.slice(-window - 1, -1)
    return recent.length ? recent.reduce((s, b) => s + b.requests, 0) / recent.length : 0
  }
}
