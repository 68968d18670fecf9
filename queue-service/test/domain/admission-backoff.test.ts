import { describe, expect, it } from 'vitest'
import { HEALTHY, nextHealth, type BackoffPolicy, type PressureSignal } from '../../src/domain/admission-backoff.js'

const policy: BackoffPolicy = { p95TargetMs: { booking: 200, payment: 300 }, minSamples: 5, minFactor: 0.1, decrease: 0.5, increasePerSecond: 0.1 }
const report = (at: number, extra: Partial<PressureSignal> = {}): PressureSignal => ({ service: 'booking', at, p95Ms: 40, samples: 50, poolWaiters: 0, shed: 0, ...extra })

describe('nextHealth', () => {
  it('when every report is healthy, then the factor stays at 1', () => {
    expect(nextHealth(HEALTHY, [report(1), report(1, { service: 'payment' })], 1_000, policy)).toMatchObject({ factor: 1, why: 'healthy' })
  })

  it('when holds are slow, the pool has waiters or requests are shed, then each report halves the factor to the floor', () => {
    let state = HEALTHY
    const whys: string[] = []
    for (let at = 1; at <= 6; at++) {
      state = nextHealth(state, [report(at, { p95Ms: 450 }), report(at, { service: 'gateway', p95Ms: null, samples: 0, shed: at === 2 ? 7 : 0 })], 1_000, policy)
      whys.push(state.why)
    }
    expect(state.factor).toBe(0.1)
    expect(whys[0]).toBe('booking p95 450 ms > 200 ms')
    expect(whys[1]).toContain('gateway shed 7 requests')
    expect(nextHealth(HEALTHY, [report(1, { service: 'payment', poolWaiters: 3 })], 1_000, policy).why).toBe('payment database pool has 3 waiting')
  })

  it('when the same report is read twice, then it lowers the factor once', () => {
    const once = nextHealth(HEALTHY, [report(5, { p95Ms: 900 })], 1_000, policy)
    expect(nextHealth(once, [report(5, { p95Ms: 900 })], 1_000, policy).factor).toBe(0.5)
  })

  it('when a p95 rests on a handful of requests, then it says nothing', () => {
    expect(nextHealth(HEALTHY, [report(1, { p95Ms: 5_000, samples: 3 })], 1_000, policy).factor).toBe(1)
  })

  it('when the services recover, then the factor climbs back by a step per second, never above 1', () => {
    let state = { factor: 0.1, why: 'x', actedOn: 10 }
    const factors: number[] = []
    for (let at = 11; at <= 22; at++) {
      state = nextHealth(state, [report(at)], 1_000, policy)
      factors.push(Number(state.factor.toFixed(2)))
    }
    expect(factors.slice(0, 3)).toEqual([0.2, 0.3, 0.4])
    expect(factors.at(-1)).toBe(1)
    expect(state.why).toBe('healthy')
    expect(nextHealth({ factor: 0.5, why: 'x', actedOn: 0 }, [], 2_000, policy)).toMatchObject({ factor: 0.7, why: 'recovering' })
  })
})
