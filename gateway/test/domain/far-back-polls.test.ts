import type { LineSummary } from '@tickets/contracts/queue-line'
import { describe, expect, it } from 'vitest'
import { answerFarBack, estimatedPosition, MIN_NEAR_PLACES } from '../../src/domain/far-back-polls.js'

const line = (over: Partial<LineSummary> = {}): LineSummary => ({
  at: 0,
  head: 1_001,
  tail: 21_000,
  waiting: 10_000,
  presale: 0,
  rates: { measuredRate: 50, deviation: 0, effectiveRate: 50 },
  reason: null,
  open: false,
  free: null,
  held: null,
  spreadSeconds: null,
  settings: { overbook: 1.5, fallbackRate: 50, activeTtlMs: 600_000, waitingTokenTtlMs: 86_400_000 },
  ...over,
})
const NOW = Date.UTC(2026, 11, 7, 20)

describe('estimatedPosition', () => {
  it('when fans left the line, then the departures are spread evenly between the first and the last arrival still counted', () => {
    expect(estimatedPosition(1_001, line())).toBe(1)
    expect(estimatedPosition(21_000, line())).toBe(10_000)
    expect(estimatedPosition(11_000, line())).toBe(5_000)
  })

  it('when the fan is not between head and tail (admitted already, or newer than the step), then there is no estimate', () => {
    expect(estimatedPosition(1_000, line())).toBeNull()
    expect(estimatedPosition(21_001, line())).toBeNull()
    expect(estimatedPosition(5, line({ head: null, waiting: 0 }))).toBeNull()
    expect(estimatedPosition(7, line({ head: 7, tail: 7, waiting: 1 }))).toBe(1)
    // Presale places stand before the general line's head: every general position comes after them.
    expect(estimatedPosition(1_001, line({ waiting: 10_005, presale: 5 }))).toBe(6)
    expect(estimatedPosition(21_000, line({ waiting: 10_005, presale: 5 }))).toBe(10_005)
    expect(estimatedPosition(7, line({ head: 7, tail: 7, waiting: 3, presale: 2 }))).toBe(3)
    expect(estimatedPosition(7, line({ head: null, tail: 7, waiting: 2, presale: 2 }))).toBeNull()
  })
})

describe('answerFarBack', () => {
  it("when the fan is far back, then the answer is the queue service's estimate for that place, the hint a quarter of it", () => {
    expect(answerFarBack(11_000, line(), NOW)).toEqual({
      status: 'WAITING',
      position: 5_000,
      estimatedWaitSeconds: 100,
      estimatedWaitRangeSeconds: [100, 100],
      retryAfterSeconds: 25,
    })
    expect(answerFarBack(21_000, line({ reason: 'PAUSED', rates: { measuredRate: 0, deviation: 0, effectiveRate: 0 } }), NOW)).toMatchObject({
      reason: 'PAUSED',
      retryAfterSeconds: 60,
    })
  })

  it('when the fan is within ten seconds of admission (or the minimum places), then the queue service answers', () => {
    // 50 a second: the front 500 places ask the queue service.
    expect(answerFarBack(1_001 + 2 * 499, line(), NOW)).toBeNull()
    expect(answerFarBack(1_001 + 2 * 501, line(), NOW)).not.toBeNull()
    const slow = line({ rates: { measuredRate: 1, deviation: 0, effectiveRate: 1 } })
    expect(answerFarBack(1_001 + 2 * (MIN_NEAR_PLACES - 1), slow, NOW)).toBeNull()
    expect(answerFarBack(1_001 + 2 * (MIN_NEAR_PLACES + 1), slow, NOW)).not.toBeNull()
  })

  it('when every seat is held, the line lets everyone in or it sold out, then the queue service answers', () => {
    expect(answerFarBack(21_000, line({ reason: 'ALL_SEATS_HELD' }), NOW)).toBeNull()
    expect(answerFarBack(21_000, line({ open: true }), NOW)).toBeNull()
    expect(answerFarBack(21_000, line({ settings: null }), NOW)).toBeNull()
  })

  it('when the fan is beyond what the seats left can reach, then says so from the summary, even while every seat is held', () => {
    const few = line({ free: 0, held: 100, reason: 'ALL_SEATS_HELD' })
    expect(answerFarBack(21_000, few, NOW)).toMatchObject({ reason: 'OUT_OF_REACH', seatsLeft: 100, retryAfterSeconds: 60 })
    expect(answerFarBack(20_999, few, NOW)).toMatchObject({ reason: 'OUT_OF_REACH', retryAfterSeconds: 59 })
    expect(answerFarBack(1_001 + 2 * 100, few, NOW)).toBeNull()
  })
})
