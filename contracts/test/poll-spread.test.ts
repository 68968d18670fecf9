import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LineInfo } from '../src/line-commands.js'
import { MAX_RETRY_S } from '../src/queue-line.js'
import { onOwnSlot, pollSpreadSeconds, waitingView } from '../src/queue-view.js'
import { aLine, NOW } from './line-fixtures.js'

const settings = { fallbackRate: 50, overbook: 1, waitingTokenTtlMs: 86_400_000 }
// Admissions fast enough that every fan's own estimate ends before the holds do.
const heldLine = (over: Partial<LineInfo>): LineInfo =>
  aLine({
    measuredRate: 5_000,
    deviation: 0,
    effectiveRate: 5_000,
    reason: 'ALL_SEATS_HELD',
    seatsOnHold: 20_000,
    nextReleaseAt: NOW + 10_000,
    releaseForPosition: NOW + 10_000,
    free: 0,
    held: 20_000,
    ...over,
  })

describe('onOwnSlot', () => {
  it('brings the fan back no sooner than the hint, on their own second of the cycle, never past the longest hint', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_RETRY_S }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 86_400_000 }),
        fc.integer({ min: 1, max: MAX_RETRY_S }),
        (hint, seq, offset, period) => {
          const now = NOW + offset
          const back = onOwnSlot(hint, seq, now, period)
          expect(back).toBeLessThanOrEqual(MAX_RETRY_S)
          if (hint + period - 1 > MAX_RETRY_S) return
          expect(back).toBeGreaterThanOrEqual(hint)
          expect(back).toBeLessThan(hint + period)
          expect((Math.floor(now / 1000) + back) % period).toBe(seq % period)
        },
      ),
    )
  })
})

describe('pollSpreadSeconds', () => {
  it('when no gateway measured its capacity yet, or nobody waits, then polls are not spread', () => {
    expect(pollSpreadSeconds({ waiting: 50_000, free: 100, held: 0, overbook: 1.5, pollsPerSecond: null })).toBe(1)
    expect(pollSpreadSeconds({ waiting: 0, free: 100, held: 0, overbook: 1.5, pollsPerSecond: 10 })).toBe(1)
  })

  it('when the gateways can answer every fan within reach each second, then polls are not spread', () => {
    expect(pollSpreadSeconds({ waiting: 600, free: 1_000, held: 0, overbook: 1, pollsPerSecond: 2_000 })).toBe(1)
  })

  it('spreads fans within reach over the capacity left after the once-a-minute polls of fans beyond reach', () => {
    // 10,000 within reach, 60,000 beyond: 1,000 polls a second go to those beyond, 500 are left.
    expect(pollSpreadSeconds({ waiting: 70_000, free: 6_000, held: 4_000, overbook: 1, pollsPerSecond: 1_500 })).toBe(20)
    // Those beyond take every poll the gateways have: the longest spread, a sell-out still reaches all within it.
    expect(pollSpreadSeconds({ waiting: 100_000, free: 100, held: 0, overbook: 1.5, pollsPerSecond: 1_000 })).toBe(MAX_RETRY_S)
  })

  it('when it is under the longest hint, the whole line polls no faster than the gateways can answer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        fc.double({ min: 1, max: 50_000, noNaN: true }),
        (waiting, free, held, overbook, pollsPerSecond) => {
          const spread = pollSpreadSeconds({ waiting, free, held, overbook, pollsPerSecond })
          expect(spread).toBeGreaterThanOrEqual(1)
          expect(spread).toBeLessThanOrEqual(MAX_RETRY_S)
          if (spread === 1 || spread === MAX_RETRY_S) return
          const within = Math.min(waiting, Math.ceil((free + held) * overbook))
          expect(within / spread + (waiting - within) / MAX_RETRY_S).toBeLessThanOrEqual(pollsPerSecond * (1 + 1e-9))
        },
      ),
    )
  })
})

describe('a wave when a hold ends', () => {
  it('when 20,000 fans wait for holds ending in 10 s, then none returns before the release, no second above its share', () => {
    const spread = 20
    const perSecond = new Map<number, number>()
    for (let seq = 1; seq <= 20_000; seq++) {
      const view = waitingView(seq, seq, heldLine({ spreadSeconds: spread }), settings, NOW)
      perSecond.set(view.retryAfterSeconds, (perSecond.get(view.retryAfterSeconds) ?? 0) + 1)
    }
    const seconds = [...perSecond.keys()].sort((a, b) => a - b)
    expect(seconds[0]).toBeGreaterThanOrEqual(12)
    expect(seconds.length).toBe(spread)
    expect(Math.max(...perSecond.values())).toBe(20_000 / spread)
  })

  it('when the line is not spread, then they all come back in the second after the release', () => {
    const answers = new Set<number>()
    for (let seq = 1; seq <= 1_000; seq++) answers.add(waitingView(seq, seq, heldLine({}), settings, NOW).retryAfterSeconds)
    expect(answers).toEqual(new Set([12]))
  })
})
