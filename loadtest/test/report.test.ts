import { describe, expect, it } from 'vitest'
import { ticketOpen } from '../src/scenarios.js'
import { htmlReport, lineChart, markdownReport } from '../src/runner/report.js'
import { percentile } from '../src/runner/percentile.js'
import { Stats } from '../src/runner/stats.js'

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
    const result = { scenario: ticketOpen({ users: 10, rampSeconds: 1 }), stats, command: 'npm run load -- ticket-open', startedAt: new Date(), durationSeconds: 1, thresholdFailures: ['unexpected errors 33%'], reconcile: { ok: true, output: '' }, memory: [] }
    const md = markdownReport(result)
    expect(md).toContain('| pay | 1 |')
    expect(md).toContain('FAILED: unexpected errors 33%')
    const html = htmlReport(result)
    expect(html).toContain('<svg')
    expect(html).not.toMatch(/<script|src="http/)
  })

  it('says what ran before the measured crowd, so a warm run is never mistaken for a cold one', () => {
    const base = { scenario: ticketOpen({ users: 10, rampSeconds: 1 }), stats: new Stats(), command: 'npm run load -- ticket-open', startedAt: new Date(), durationSeconds: 1, thresholdFailures: [], reconcile: null, memory: [] }
    expect(markdownReport({ ...base, cacheWarmed: true, warmup: { fans: 20, sold: 20, seconds: 2.5 } })).toContain('catalogue cache warmed; warm-up (not counted): 20 fans bought 20 seats')
    expect(markdownReport({ ...base, cacheWarmed: false, warmup: null })).toContain('catalogue cache not warmed; warm-up (not counted): none')
  })

  it('draws one path per series', () => {
    const svg = lineChart('x', 'ms', [{ name: 'a', values: [1, 2] }, { name: 'b', values: [3, 1] }])
    expect(svg.match(/<path /g)).toHaveLength(2)
  })
})
