import { describe, expect, it } from 'vitest'
import { createCapacityMeter } from '../../src/domain/capacity-meter.js'

describe('createCapacityMeter', () => {
  it('when the loop was busy half the window answering 1,000 requests a second, then it can answer 2,000', () => {
    const meter = createCapacityMeter()
    expect(meter.sample(5_000, 5, 0.5)).toBe(2_000)
  })

  it('when the loop was nearly idle, then the window changes nothing (timers, not requests, kept it busy)', () => {
    const meter = createCapacityMeter()
    expect(meter.sample(10, 5, 0.01)).toBeNull()
    meter.sample(5_000, 5, 0.5)
    expect(meter.sample(10, 5, 0.01)).toBe(2_000)
  })

  it('smooths windows: one odd window moves the estimate a third of the way', () => {
    const meter = createCapacityMeter({ minUtilization: 0.2, smoothing: 0.3 })
    meter.sample(5_000, 5, 0.5)
    expect(meter.sample(5_000, 5, 1)).toBeCloseTo(0.3 * 1_000 + 0.7 * 2_000)
  })
})
