/** Everything the runner measures, per step and per second of the run. */

export interface SecondBucket {
  arrivals: number
  requests: number
  statuses: Record<string, number>
  latency: Record<string, number[]>
  inLine: number
  active: number
  sold: number
  admitted: number
  unexpected: number
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export class Stats {
  readonly startedAt = Date.now()
  readonly seconds: SecondBucket[] = []
  readonly byStep = new Map<string, number[]>()
  readonly statusByStep = new Map<string, Record<string, number>>()
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
    while (this.seconds.length <= s) {
      this.seconds.push({ arrivals: 0, requests: 0, statuses: {}, latency: {}, inLine: this.inLine, active: this.active, sold: this.sold, admitted: this.admitted, unexpected: 0 })
    }
    return this.seconds[s]!
  }

  arrival() {
    this.arrivals++
    this.bucket().arrivals++
  }

  request(step: string, status: number, ms: number, expected: boolean) {
    this.requests++
    const b = this.bucket()
    b.requests++
    const key = status === 0 ? 'network' : String(status)
    b.statuses[key] = (b.statuses[key] ?? 0) + 1
    ;(b.latency[step] ??= []).push(ms)
    let all = this.byStep.get(step)
    if (!all) this.byStep.set(step, (all = []))
    all.push(ms)
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

  stepSummary() {
    return [...this.byStep.entries()].map(([step, values]) => {
      const sorted = [...values].sort((a, b) => a - b)
      return { step, count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0, statuses: this.statusByStep.get(step) ?? {} }
    })
  }

  /** p95 over the last few seconds of all steps, for the progress line. */
  recentP95(window = 5): number {
    const recent = this.seconds.slice(-window).flatMap((b) => Object.values(b.latency).flat())
    return percentile(recent.sort((a, b) => a - b), 95)
  }

  recentRate(window = 3): number {
    const recent = this.seconds.slice(-window - 1, -1)
    return recent.length ? recent.reduce((s, b) => s + b.requests, 0) / recent.length : 0
  }
}
