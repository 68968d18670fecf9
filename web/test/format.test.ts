import { describe, expect, it } from 'vitest'
import { clock, timeOfDay, waitRange } from '../src/fan/format.js'
import { reasonText } from '../src/fan/waiting.js'
import { FAN_MESSAGES, plainWords } from '../src/fan/messages.js'

describe("the fan's page in words", () => {
  it('says a wait range the way a person would', () => {
    expect(waitRange([10, 50])).toBe('less than a minute')
    expect(waitRange([60, 89])).toBe('about 1 minute')
    expect(waitRange([120, 240])).toBe('about 2 to 4 minutes')
    expect(waitRange([3 * 3600, 5 * 3600])).toBe('about 3 to 5 hours')
  })

  it('counts a hold down as minutes and seconds, never below zero', () => {
    expect(clock(272)).toBe('4:32')
    expect(clock(-3)).toBe('0:00')
  })

  it("puts a problem in plain words by its code, else in the problem's own title", () => {
    expect(plainWords({ status: 409, code: 'BOOKING_SEAT_TAKEN', title: 'Seat is already held or sold' })).toBe(FAN_MESSAGES.BOOKING_SEAT_TAKEN)
    expect(plainWords({ status: 418, code: 'SOMETHING_NEW', title: 'A new problem' })).toBe('A new problem')
  })
})

describe('why the line is not moving, in words', () => {
  it('tells a presale fan waiting for the opening when sales open', () => {
    const opensAt = '2026-12-07T19:00:00.000Z'
    const text = reasonText({ status: 'WAITING', position: 3, opensAt, reason: 'NOT_OPEN_YET' })
    expect(text).toContain(timeOfDay(opensAt))
    expect(text).toContain('presale')
  })

  it('says nothing while the line moves', () => {
    expect(reasonText({ status: 'WAITING', position: 3 })).toBeNull()
  })
})
