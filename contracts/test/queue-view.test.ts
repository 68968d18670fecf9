import { describe, expect, it } from 'vitest'
import { retryAfterWhileHeld } from '../../src/domain/waiting-estimates.js'

describe('retryAfterWhileHeld', () => {
  const held = { estimatedWaitSeconds: 8, seatsOnHold: 4, overbook: 1.5, secondsToRelease: 200 }

  it('when the fan is within reach of the held seats, then not before the hold that could free their seat has ended (plus the release lag)', () => {
    expect(retryAfterWhileHeld({ ...held, position: 6 })).toBe(202)
    expect(retryAfterWhileHeld({ ...held, position: 6, secondsToRelease: 0 })).toBe(2)
  })

  it('when the fan is behind every held seat, then after the last hold and time for the fans ahead to buy, spread by position', () => {
    expect(retryAfterWhileHeld({ ...held, position: 7 })).toBe(200 + 10)
    expect(retryAfterWhileHeld({ ...held, position: 20_006 })).toBe(200 + 10 + 20)
    expect(retryAfterWhileHeld({ ...held, position: 5_000_000 })).toBe(200 + 10 + 120)
    expect(retryAfterWhileHeld({ ...held, position: 7, estimatedWaitSeconds: 10_000 })).toBe(210)
  })
})
