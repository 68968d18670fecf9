import { describe, expect, it } from 'vitest'
import { estimateWait, retryAfterSeconds } from '../src/queue-line.js'

const measured = (measuredRate: number | null, deviation: number | null = null, effectiveRate: number | null = 50) => ({ measuredRate, deviation, effectiveRate })

describe('estimateWait', () => {
  it('when admissions were measured, then the wait follows the measured rate, not the allowed one', () => {
    expect(estimateWait(100, measured(5), 50).seconds).toBe(20)
    expect(estimateWait(100, measured(0.5), 50).seconds).toBe(200)
  })

  it('when nothing was measured yet, then the allowed rate stands in', () => {
    expect(estimateWait(100, measured(null), 50).seconds).toBe(2)
    expect(estimateWait(100, measured(null, null, null), 20).seconds).toBe(5)
  })

  it('when fans waited and nobody was admitted lately, then the line counts as stalled, not as moving at the allowed rate', () => {
    expect(estimateWait(1, measured(0), 50).seconds).toBe(20)
    expect(estimateWait(100, measured(0.001), 50).seconds).toBe(2_000)
    expect(retryAfterSeconds(estimateWait(100, measured(0), 50).seconds)).toBe(60)
  })

  it('when the outflow varies, then the range spans rate ± deviation, never faster than allowed nor slower than a quarter', () => {
    expect(estimateWait(100, measured(10, 5, 50)).range).toEqual([7, 20])
    expect(estimateWait(100, measured(10, 30, 12)).range).toEqual([9, 40])
    expect(estimateWait(100, measured(10, 0, 50)).range).toEqual([10, 10])
  })

  it('when nothing can be admitted, then the wait is long rather than infinite', () => {
    expect(estimateWait(3, measured(null, null, 0), 0)).toEqual({ seconds: 180, range: [180, 180] })
    expect(estimateWait(3, measured(0, 0, 0), 0).seconds).toBe(60)
  })
})

describe('retryAfterSeconds', () => {
  it('when the fan is near the front, then 1 s; far back, a quarter of the wait up to 60 s and never more', () => {
    expect(retryAfterSeconds(0)).toBe(1)
    expect(retryAfterSeconds(3)).toBe(1)
    expect(retryAfterSeconds(20)).toBe(5)
    expect(retryAfterSeconds(60)).toBe(15)
    expect(retryAfterSeconds(240)).toBe(60)
    expect(retryAfterSeconds(86_400)).toBe(60)
    const hints = [1, 5, 10, 30, 50, 100, 1_000].map(retryAfterSeconds)
    expect([...hints].sort((x, y) => x - y)).toEqual(hints)
  })

  it('when a fan polls as told, then the polls grow with the logarithm of the wait', () => {
    const pollsFor = (wait: number) => {
      let left = wait
      let polls = 0
      while (left > 0) {
        left -= retryAfterSeconds(left)
        polls += 1
      }
      return polls
    }
    expect(pollsFor(60)).toBeLessThanOrEqual(12)
    expect(pollsFor(600)).toBeLessThan(2 * pollsFor(60))
  })
})
