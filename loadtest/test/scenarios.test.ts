import { describe, expect, it } from 'vitest'
import { arrivalTimes, isExpectedStatus, mostPresentAtOnce, rateAt, soak, ticketOpen, ticketOpenPreQueue, tokenStorm, totalArrivals, totalSeconds } from '../src/scenarios.js'

describe('scenarios', () => {
  it('ticket-open brings the asked number of fans over the ramp, slowly first', () => {
    const s = ticketOpen({ users: 2_000, rampSeconds: 20 })
    const times = arrivalTimes(s.stages)
    expect(times.length).toBeGreaterThanOrEqual(1_998)
    expect(times.length).toBeLessThanOrEqual(2_000)
    expect(times.at(-1)!).toBeLessThanOrEqual(20)
    const firstHalf = times.filter((t) => t < 10).length
    expect(firstHalf).toBeGreaterThan(400)
    expect(firstHalf).toBeLessThan(600) // a linear ramp brings a quarter in the first half
  })

  it('ticket-open with a pre-queue brings half of its fans before the opening and half after it', () => {
    const s = ticketOpenPreQueue({ users: 2_000, rampSeconds: 20 })
    expect(s.preQueue).toEqual({ opensAtSeconds: 10 })
    expect(totalArrivals(s.stages)).toBe(2_000)
    const times = arrivalTimes(s.stages)
    const before = times.filter((t) => t < s.preQueue!.opensAtSeconds).length
    expect(Math.abs(before - 1_000)).toBeLessThanOrEqual(2)
    expect(times.length - before).toBeGreaterThanOrEqual(998)
    expect(times.at(-1)!).toBeLessThanOrEqual(20)
  })

  it('token-storm rises through its stages', () => {
    const s = tokenStorm({ rate: 100, durationSeconds: 20 })
    expect(totalSeconds(s.stages)).toBe(20)
    expect(rateAt(s.stages, 5)).toBeCloseTo(25)
    expect(rateAt(s.stages, 15)).toBeCloseTo(75)
    expect(rateAt(s.stages, 25)).toBe(0)
  })

  it('fans present at once: the peak rate times the stay, never more than every arrival', () => {
    const open = ticketOpen({ users: 3_000, rampSeconds: 60 })
    expect(totalArrivals(open.stages)).toBe(3_000)
    expect(mostPresentAtOnce(open.stages, 1_500)).toBe(3_000)
    expect(mostPresentAtOnce(open.stages, 10)).toBe(1_000)
    expect(mostPresentAtOnce(soak({ rate: 20, durationSeconds: 1_800 }).stages, 900)).toBe(18_000)
  })

  it('counts lost seat races, sold-out joins and limits with Retry-After as expected, not as errors', () => {
    expect(isExpectedStatus('hold', 409, false)).toBe(true)
    expect(isExpectedStatus('join', 409, false)).toBe(true)
    expect(isExpectedStatus('join', 429, true)).toBe(true)
    expect(isExpectedStatus('pay', 503, true)).toBe(true)
    expect(isExpectedStatus('pay', 503, false)).toBe(false)
    expect(isExpectedStatus('pay', 409, false)).toBe(false)
    expect(isExpectedStatus('seats', 500, true)).toBe(false)
  })

  it('when a leave answered 503 is retried and finds no place, then that 404 is expected, unlike a first leave answered 404', () => {
    expect(isExpectedStatus('leave', 404, false, true)).toBe(true)
    expect(isExpectedStatus('leave', 404, false)).toBe(false)
    expect(isExpectedStatus('pay', 404, false, true)).toBe(false)
  })

  it('when a join is refused for the join challenge, then expected; a join with its proof refused again is not', () => {
    expect(isExpectedStatus('join', 403, false)).toBe(true)
    expect(isExpectedStatus('join', 403, false, true)).toBe(true)
    expect(isExpectedStatus('join_proof', 403, false)).toBe(false)
    expect(isExpectedStatus('join_proof', 409, false)).toBe(true)
    expect(isExpectedStatus('join_proof', 503, true)).toBe(true)
  })
})
