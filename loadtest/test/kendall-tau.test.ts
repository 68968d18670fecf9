import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { kendallTau, type RankedPair } from '../src/runner/kendall-tau.js'

function byPairs(points: RankedPair[]) {
  let concordant = 0
  let discordant = 0
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i]!
      const b = points[j]!
      const sign = Math.sign(a.join - b.join) * Math.sign(a.admission - b.admission)
      if (sign > 0) concordant++
      else if (sign < 0) discordant++
    }
  }
  return { concordant, discordant }
}

describe("Kendall's tau between join order and admission order", () => {
  it('is 1 when fans are admitted in the order they joined', () => {
    expect(kendallTau([1, 2, 3, 4, 5].map((n) => ({ join: n, admission: n * 10 }))).tau).toBe(1)
  })

  it('is -1 when the order is reversed', () => {
    expect(kendallTau([1, 2, 3, 4, 5].map((n) => ({ join: n, admission: 100 - n }))).tau).toBe(-1)
  })

  it('is n/a (null) when every fan was admitted in the same step', () => {
    expect(kendallTau([1, 2, 3].map((n) => ({ join: n, admission: 7 })))).toEqual({ tau: null, concordant: 0, discordant: 0 })
    expect(kendallTau([]).tau).toBeNull()
  })

  it('counts only pairs admitted in different steps (worked by hand)', () => {
    // steps: seq 1 -> 2, seq 2 -> 1, seq 3 -> 3, seq 4 -> 3
    // (1,2) discordant; (1,3) (1,4) (2,3) (2,4) concordant; (3,4) same step, not counted
    const points = [
      { join: 1, admission: 2 },
      { join: 2, admission: 1 },
      { join: 3, admission: 3 },
      { join: 4, admission: 3 },
    ]
    expect(kendallTau(points)).toEqual({ tau: 3 / 5, concordant: 4, discordant: 1 })
  })

  it('agrees with counting every pair, ties included', () => {
    const point = fc.record({ join: fc.integer({ min: 1, max: 30 }), admission: fc.integer({ min: 1, max: 8 }) })
    fc.assert(
      fc.property(fc.array(point, { maxLength: 60 }), (points) => {
        const { concordant, discordant } = byPairs(points)
        const result = kendallTau(points)
        expect([result.concordant, result.discordant]).toEqual([concordant, discordant])
      }),
    )
  })

  it('takes well under a second for 20,000 admitted fans', () => {
    const points = Array.from({ length: 20_000 }, (_, i) => ({ join: i + 1, admission: Math.floor((i + ((i * 7919) % 50)) / 50) }))
    const started = performance.now()
    const result = kendallTau(points)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(result.tau).toBeGreaterThan(0.9)
  })
})
