import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decideAdmission, type AdmissionInput } from '../../src/domain/admission.js'

const base: AdmissionInput = {
  now: 1_000_000,
  tickMs: 1_000,
  waiting: 1_000,
  active: 0,
  activeHolding: 0,
  ceilingRate: 50,
  healthFactor: 1,
  cap: 500,
  carry: 0,
  paused: false,
  mode: null,
  soldOut: false,
  drawing: false,
  inventory: null,
  overbook: 1.5,
  batchLimit: 5_000,
}
const stock = (free: number, onHold = 0, extra: Partial<NonNullable<AdmissionInput['inventory']>> = {}) => ({
  free,
  onHold,
  nextReleaseAt: onHold ? base.now + 60_000 : null,
  opensAt: null,
  ...extra,
})

describe('decideAdmission', () => {
  it('when the inventory is not known yet, then rate and cap alone decide', () => {
    expect(decideAdmission(base)).toMatchObject({ admit: 50, limitedBy: 'rate', reason: null })
    expect(decideAdmission({ ...base, active: 480 })).toMatchObject({ admit: 20, limitedBy: 'cap' })
    expect(decideAdmission({ ...base, waiting: 7 })).toMatchObject({ admit: 7, limitedBy: 'line' })
  })

  it('when few seats are left, then no more fans than free seats x overbook, less the ACTIVE fans who hold nothing', () => {
    expect(decideAdmission({ ...base, inventory: stock(10) })).toMatchObject({ admit: 15, limitedBy: 'inventory' })
    expect(decideAdmission({ ...base, inventory: stock(10, 5), active: 12, activeHolding: 5 })).toMatchObject({ admit: 8, limitedBy: 'inventory' })
    expect(decideAdmission({ ...base, inventory: stock(10, 5), active: 20, activeHolding: 0 })).toMatchObject({ admit: 0, limitedBy: 'inventory', reason: null })
  })

  it('when every unsold seat is on hold, then nobody is admitted and the line says ALL_SEATS_HELD', () => {
    expect(decideAdmission({ ...base, inventory: stock(0, 4) })).toMatchObject({ admit: 0, reason: 'ALL_SEATS_HELD', limitedBy: 'inventory' })
  })

  it('when paused, in queue-all, sold out or not open yet, then nobody is admitted, with the reason a fan can read', () => {
    expect(decideAdmission({ ...base, paused: true })).toMatchObject({ admit: 0, reason: 'PAUSED' })
    expect(decideAdmission({ ...base, mode: 'queue-all' })).toMatchObject({ admit: 0, reason: 'PAUSED' })
    expect(decideAdmission({ ...base, soldOut: true })).toMatchObject({ admit: 0, reason: null, limitedBy: 'sold-out' })
    expect(decideAdmission({ ...base, inventory: stock(10, 0, { opensAt: base.now + 1 }) })).toMatchObject({ admit: 0, reason: 'NOT_OPEN_YET' })
    expect(decideAdmission({ ...base, inventory: stock(10, 0, { opensAt: base.now }) }).admit).toBe(15)
  })

  it('while the opening draw is applied, then nobody is admitted, not even in let-all: late joiners would pass drawn fans', () => {
    expect(decideAdmission({ ...base, drawing: true })).toMatchObject({ admit: 0, reason: 'NOT_OPEN_YET', limitedBy: 'drawing' })
    expect(decideAdmission({ ...base, drawing: true, mode: 'let-all' })).toMatchObject({ admit: 0, limitedBy: 'drawing' })
  })

  it('when an operator lets everyone in, then the whole line up to the batch bound, whatever the rate and cap', () => {
    expect(decideAdmission({ ...base, mode: 'let-all', waiting: 9_000, active: 500 })).toMatchObject({ admit: 5_000, limitedBy: 'let-all' })
  })

  it('when the system struggles, then the rate is the ceiling times the health factor, and fractions carry over', () => {
    const half = decideAdmission({ ...base, healthFactor: 0.5 })
    expect(half).toMatchObject({ admit: 25, effectiveRate: 25 })
    const slow = { ...base, ceilingRate: 1, healthFactor: 0.25 }
    let carry = 0
    const admitted: number[] = []
    for (let i = 0; i < 8; i++) {
      const d = decideAdmission({ ...slow, carry })
      admitted.push(d.admit)
      carry = d.carry
    }
    expect(admitted).toEqual([0, 0, 0, 1, 0, 0, 0, 1])
  })

  it('never admits more than any bound allows, never a negative number, and never while halted (property)', () => {
    const input = fc.record({
      waiting: fc.nat(10_000),
      active: fc.nat(1_000),
      holdingShare: fc.double({ min: 0, max: 1, noNaN: true }),
      ceilingRate: fc.double({ min: 0, max: 500, noNaN: true }),
      healthFactor: fc.double({ min: 0, max: 1, noNaN: true }),
      cap: fc.nat(1_000),
      carry: fc.double({ min: 0, max: 0.999, noNaN: true }),
      paused: fc.boolean(),
      mode: fc.constantFrom(null, 'queue-all' as const, 'let-all' as const),
      soldOut: fc.boolean(),
      drawing: fc.boolean(),
      inventory: fc.option(fc.record({ free: fc.nat(200), onHold: fc.nat(200), nextReleaseAt: fc.constant(null), opensAt: fc.constant(null) }), { nil: null }),
      overbook: fc.double({ min: 0, max: 3, noNaN: true }),
    })
    fc.assert(
      fc.property(input, ({ holdingShare, ...rest }) => {
        const i: AdmissionInput = { ...base, ...rest, activeHolding: Math.floor(rest.active * holdingShare) }
        const d = decideAdmission(i)
        expect(d.admit).toBeGreaterThanOrEqual(0)
        expect(Number.isInteger(d.admit)).toBe(true)
        expect(d.admit).toBeLessThanOrEqual(Math.min(i.waiting, i.batchLimit))
        if (i.soldOut || i.paused || i.mode === 'queue-all' || i.drawing) expect(d.admit).toBe(0)
        if (i.mode === 'let-all' || d.admit === 0) return
        expect(d.admit).toBeLessThanOrEqual(i.cap - i.active)
        expect(d.admit).toBeLessThanOrEqual(i.ceilingRate * i.healthFactor + i.carry)
        if (i.inventory) expect(d.admit + (i.active - i.activeHolding)).toBeLessThanOrEqual(i.inventory.free * i.overbook)
        expect(d.carry).toBeGreaterThanOrEqual(0)
        expect(d.carry).toBeLessThan(1)
      }),
      { numRuns: 2_000 },
    )
  })
})
