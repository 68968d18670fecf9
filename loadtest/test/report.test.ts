import { describe, expect, it } from 'vitest'
import { ticketOpen } from '../src/scenarios.js'
import { percentile } from '../src/runner/percentile.js'
import { htmlReport, jsonReport, lineChart, markdownReport } from '../src/runner/report.js'
import { Stats } from '../src/runner/stats.js'

function aWaitingToken(seq: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ st: 'WAITING', seq, sub: `fan-${seq}` })}.signature`
}

/** A run of `stats` with nothing else to report: no thresholds missed, no reconcile, no memory. */
function aRun(stats: Stats, durationSeconds = 1) {
  return {
    scenario: ticketOpen({ users: 3, rampSeconds: 1 }),
    stats,
    command: 'x',
    startedAt: new Date(stats.startedAt),
    durationSeconds,
    thresholdFailures: [],
    reconcile: null,
    memory: [],
  }
}

describe('the load report', () => {
  it('percentiles pick the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(sorted, 95)).toBe(95)
    expect(percentile(sorted, 50)).toBe(50)
    expect(percentile([], 95)).toBe(0)
  })

  it('summarises steps and writes a self-contained page with charts', () => {
    const stats = new Stats()
    stats.arrival()
    stats.request('join', 201, 12, true)
    stats.request('hold', 409, 30, true)
    stats.request('pay', 500, 80, false)
    const result = {
      scenario: ticketOpen({ users: 10, rampSeconds: 1 }),
      stats,
      command: 'npm run load -- ticket-open',
      startedAt: new Date(),
      durationSeconds: 1,
      thresholdFailures: ['unexpected errors 33%'],
      reconcile: { ok: true, output: '' },
      memory: [],
    }
    const md = markdownReport(result)
    expect(md).toContain('| pay | 1 |')
    expect(md).toContain('FAILED: unexpected errors 33%')
    const html = htmlReport(result)
    expect(html).toContain('<svg')
    expect(html).not.toMatch(/<script|src="http/)
  })

  it('says what ran before the measured crowd, so a warm run is never mistaken for a cold one', () => {
    const base = {
      scenario: ticketOpen({ users: 10, rampSeconds: 1 }),
      stats: new Stats(),
      command: 'npm run load -- ticket-open',
      startedAt: new Date(),
      durationSeconds: 1,
      thresholdFailures: [],
      reconcile: null,
      memory: [],
    }
    expect(markdownReport({ ...base, cacheWarmed: true, warmup: { fans: 20, sold: 20, seconds: 2.5 } })).toContain(
      'catalogue cache warmed; warm-up (not counted): 20 fans bought 20 seats',
    )
    expect(markdownReport({ ...base, cacheWarmed: false, warmup: null })).toContain('catalogue cache not warmed; warm-up (not counted): none')
  })

  it('reports the poll budget, the reasons, the admission order and the waits of the fans who joined', () => {
    const stats = new Stats()
    const first = stats.line.joined(aWaitingToken(1), 0)
    const second = stats.line.joined(aWaitingToken(2), 1_000)
    stats.line.joined(aWaitingToken(3), 2_000)
    for (const fan of [first, first, first, second]) stats.line.polled(fan)
    stats.line.answered({ status: 'WAITING', reason: 'ALL_SEATS_HELD', seatsOnHold: 100, nextReleaseAt: '2026-01-01T00:05:00Z' })
    stats.line.answered({ status: 'WAITING', reason: 'PAUSED' })
    stats.line.answered({ status: 'WAITING' })
    stats.line.admitted(second, '2026-01-01T00:10:00Z', 4_000)
    stats.line.admitted(first, '2026-01-01T00:10:01Z', 30_000)
    const result = {
      scenario: ticketOpen({ users: 3, rampSeconds: 1 }),
      stats,
      command: 'npm run load -- ticket-open',
      startedAt: new Date(0),
      durationSeconds: 30,
      thresholdFailures: [],
      reconcile: null,
      memory: [],
    }
    const md = markdownReport(result)
    expect(md).toContain('- Waiting room: 3 fans joined, 2 admitted; polls per fan: mean 1.3, p95 3, max 3; poll answers with a reason: ALL_SEATS_HELD 1, PAUSED 1, NOT_OPEN_YET 0')
    expect(md).toContain("Kendall's tau -1.000 over 1 pairs admitted in different steps (2 admitted fans with a seq and an activeUntil")
    expect(md).toContain('- Wait of admitted fans (join answer to first ACTIVE): p95 30.0 s, longest 30.0 s')
    expect(jsonReport(result).waitingRoom).toMatchObject({
      fansJoined: 3,
      admitted: 2,
      pollsPerFan: { max: 3 },
      admissionOrder: { tau: -1, pairs: 1 },
      waitSeconds: { max: 30, p95: 30 },
    })
  })

  it('reports how long after the last sale the fans in line heard SOLD_OUT', () => {
    const stats = new Stats()
    const fans = [1, 2, 3].map((seq) => stats.line.joined(aWaitingToken(seq), stats.startedAt))
    stats.line.sold(stats.startedAt + 10_000)
    stats.line.sold(stats.startedAt + 20_000)
    stats.line.toldSoldOut(fans[0]!, stats.startedAt + 19_000)
    stats.line.toldSoldOut(fans[1]!, stats.startedAt + 50_000)
    stats.line.toldSoldOut(fans[1]!, stats.startedAt + 70_000)
    const result = aRun(stats, 80)
    // The first answer counts; one told before the last sale's answer reached the runner heard it at once.
    expect(markdownReport(result)).toContain('- Sell-out: the last sale 20.0 s into the run; 2 fans in line told SOLD_OUT, p95 30.0 s and at most 30.0 s after it')
    expect(jsonReport(result).waitingRoom).toMatchObject({ sellOut: { told: 2, heardSeconds: { max: 30 } } })
  })

  it('says nothing of a sell-out when nothing was sold', () => {
    const stats = new Stats()
    stats.line.joined(aWaitingToken(1), 0)
    expect(markdownReport(aRun(stats))).not.toContain('Sell-out')
  })

  it('says n/a when every admitted fan came in the same step', () => {
    const stats = new Stats()
    for (const seq of [1, 2, 3]) stats.line.admitted(stats.line.joined(aWaitingToken(seq), 0), '2026-01-01T00:10:00Z', 1_000)
    expect(markdownReport(aRun(stats))).toContain("Kendall's tau n/a over 0 pairs")
  })

  it('draws one path per series', () => {
    const svg = lineChart('x', 'ms', [
      { name: 'a', values: [1, 2] },
      { name: 'b', values: [3, 1] },
    ])
    expect(svg.match(/<path /g)).toHaveLength(2)
  })
})
