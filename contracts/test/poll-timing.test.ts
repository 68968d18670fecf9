import { describe, expect, it } from 'vitest'
import { nextPollSeconds, parseRetryAfter, pollingEnds } from '../src/poll-timing.js'

describe('nextPollSeconds', () => {
  it('when the answer carries Retry-After, then that is the wait, whatever the status', () => {
    expect(nextPollSeconds({ ok: true, retryAfter: 37 })).toBe(37)
    expect(nextPollSeconds({ ok: false, retryAfter: 5 })).toBe(5)
  })

  it('when there is no Retry-After, then one second after an answer and two after a failure', () => {
    expect(nextPollSeconds({ ok: true, retryAfter: null })).toBe(1)
    expect(nextPollSeconds({ ok: false, retryAfter: null })).toBe(2)
  })

  it('reads a header of seconds and refuses anything else', () => {
    expect(parseRetryAfter('12')).toBe(12)
    expect(parseRetryAfter(null)).toBeNull()
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT')).toBeNull()
    expect(parseRetryAfter('-1')).toBeNull()
  })

  it('stops polling once admitted, sold out or expired', () => {
    expect(['WAITING', 'ACTIVE', 'SOLD_OUT', 'EXPIRED'].map(pollingEnds)).toEqual([false, true, true, true])
  })
})
