import { describe, expect, it } from 'vitest'
import { percentile } from '../src/runner/percentile.js'
import { Stats } from '../src/runner/stats.js'

function latencies(n: number, seed = 7): number[] {
  let x = seed
  return Array.from({ length: n }, () => {
    x = (x * 48271) % 2147483647
    const u = x / 2147483647
    return 0.2 + 40 * u * u * u + (u > 0.99 ? 900 * u : 0)
  })
}

describe('step latencies', () => {
  it('give the same percentiles as the exact nearest rank, within 0.1%', () => {
    const stats = new Stats()
    const values = latencies(20_000)
    for (const ms of values) stats.request('hold', 201, ms, true)
    const sorted = [...values].sort((a, b) => a - b)
    const [hold] = stats.stepSummary()
    expect(hold!.count).toBe(20_000)
    for (const [field, p] of [
      ['p50', 50],
      ['p95', 95],
      ['p99', 99],
    ] as const) {
      const exact = percentile(sorted, p)
      expect(Math.abs(hold![field] - exact)).toBeLessThanOrEqual(exact * 0.001 + 0.001)
    }
    expect(hold!.max).toBeCloseTo(sorted.at(-1)!, 3)
  })

  it('keep no samples per second: a second with 200,000 requests takes as little room as one with 2', () => {
    const busy = new Stats()
    for (const ms of latencies(200_000)) busy.request('poll', 200, ms, true)
    const quiet = new Stats()
    for (const ms of latencies(2)) quiet.request('poll', 200, ms, true)
    const size = (s: Stats) => JSON.stringify(s.timeline()).length
    expect(size(busy)).toBeLessThan(size(quiet) + 64)
    expect(busy.timeline().at(-1)!.p95.poll).toBeGreaterThan(0)
  })

  it('answer a recent p95 across steps for the progress line', () => {
    const stats = new Stats()
    for (let i = 1; i <= 100; i++) stats.request(i % 2 ? 'join' : 'poll', 200, i, true)
    expect(stats.recentP95()).toBeCloseTo(95, 0)
  })
})
