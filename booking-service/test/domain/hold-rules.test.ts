import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { HoldInput } from '../../src/domain/ports.js'
import { decideHold } from '../../src/domain/reservation-rules.js'
import { A_SEAT } from '../helpers/reservation-steps.js'

const NOW = new Date('2026-06-01T10:00:00Z')
const input: HoldInput = {
  ...A_SEAT,
  now: NOW,
  expiresAt: new Date(NOW.getTime() + 300_000),
  limit: 4,
}

describe('decideHold', () => {
  it('when the fan holds fewer live seats of the date than the limit, then the seat is held for them until the deadline', () => {
    const { now, limit, ...asked } = input
    expect(limit).toBeGreaterThan(3)
    const held = { ...asked, status: 'HELD', createdAt: now, paymentId: null, payingUntil: null, confirmedAt: null }
    expect(decideHold(input, 3)).toStrictEqual({ kind: 'change', seat: 'HELD', reservation: held })
  })

  it('whatever the count, a fan at or over the limit is refused HOLD_LIMIT and one under it gets the seat', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 10 }), (live, limit) => {
        const decision = decideHold({ ...input, limit }, live)
        expect(decision.kind).toBe(live >= limit ? 'refuse' : 'change')
      }),
    )
  })
})
