import { describe, expect, it } from 'vitest'
import { estimateWaitSeconds, retryAfterSeconds } from '../../src/domain/queue-service.js'

describe('estimateWaitSeconds', () => {
  it('when admissions were measured, then the wait follows the measured rate, not the configured one', () => {
    expect(estimateWaitSeconds(100, 5, 50)).toBe(20)
    expect(estimateWaitSeconds(100, 0.5, 50)).toBe(200)
  })

  it('when nothing was measured yet, then the configured rate stands in', () => {
    expect(estimateWaitSeconds(100, null, 50)).toBe(2)
    expect(estimateWaitSeconds(1, 0, 50)).toBe(1)
  })
})

describe('retryAfterSeconds', () => {
  it('when the fan is near the front, then about 1 s; far back, then up to 15 s and never more', () => {
    expect(retryAfterSeconds(0)).toBe(1)
    expect(retryAfterSeconds(3)).toBe(1)
    expect(retryAfterSeconds(20)).toBe(5)
    expect(retryAfterSeconds(60)).toBe(15)
    expect(retryAfterSeconds(86_400)).toBe(15)
    const hints = [1, 5, 10, 30, 50, 100].map(retryAfterSeconds)
    expect([...hints].sort((x, y) => x - y)).toEqual(hints)
  })
})
