import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_RETRY_S } from '../src/queue-line.js'
import { placesInReach, retryAfterOutOfReach, retryAfterWhileHeld, viewOfPlace, waitingView } from '../src/queue-view.js'
import { queueTokenKey, signQueueToken, verifyQueueToken } from '../src/queue-token.js'
import { aLine, NOW } from './line-fixtures.js'

const settings = { fallbackRate: 50, overbook: 1.5, waitingTokenTtlMs: 86_400_000 }
const line = aLine

describe('retryAfterWhileHeld', () => {
  it('when the hold that could free the seat ends later, then the fan returns just after it, never past the longest hint', () => {
    expect(retryAfterWhileHeld({ estimatedWaitSeconds: 8, secondsToRelease: 20 })).toBe(22)
    expect(retryAfterWhileHeld({ estimatedWaitSeconds: 8, secondsToRelease: 0 })).toBe(2)
    expect(retryAfterWhileHeld({ estimatedWaitSeconds: 8, secondsToRelease: 200 })).toBe(MAX_RETRY_S)
  })
})

describe('retryAfterOutOfReach', () => {
  it('brings a fan back on the second of the minute their arrival number gives, within a minute', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 86_400_000 }), (seq, offset) => {
        const now = NOW + offset
        const retry = retryAfterOutOfReach(seq, now)
        expect(retry).toBeGreaterThanOrEqual(1)
        expect(retry).toBeLessThanOrEqual(MAX_RETRY_S)
        expect((Math.floor(now / 1000) + retry) % 60).toBe(seq % 60)
      }),
    )
  })

  it('when a wave of fans is answered in the same second, then their next polls are spread evenly over the minute', () => {
    const perSecond = new Map<number, number>()
    for (let seq = 1; seq <= 60_000; seq++) {
      const at = retryAfterOutOfReach(seq, NOW + 400)
      perSecond.set(at, (perSecond.get(at) ?? 0) + 1)
    }
    expect([...perSecond.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
    expect(new Set(perSecond.values())).toEqual(new Set([1_000]))
  })
})

describe('placesInReach', () => {
  it('is the free and held seats times the overbook, and unknown until the line knows its seats', () => {
    expect(placesInReach({ free: 10, held: 4 }, 1.5)).toBe(21)
    expect(placesInReach({ free: 0, held: 0 }, 1.5)).toBe(0)
    expect(placesInReach({ free: null, held: 3 }, 1.5)).toBeNull()
  })
})

describe('waitingView', () => {
  it('when the fan is beyond reach of the seats left, then says OUT_OF_REACH, the seats left and their second of the minute', () => {
    const view = waitingView(2_000, 2_000, line({ free: 900, held: 100 }), settings, NOW)
    expect(view).toMatchObject({ reason: 'OUT_OF_REACH', seatsLeft: 1_000, retryAfterSeconds: retryAfterOutOfReach(2_000, NOW), position: 2_000 })
  })

  it('when the fan is within reach, then gives the usual estimate and hint', () => {
    const view = waitingView(1_500, 1_500, line({ free: 900, held: 100 }), settings, NOW)
    expect(view.reason).toBeUndefined()
    expect(view.retryAfterSeconds).toBe(8)
  })

  it('when every seat is held, then only fans within reach of the holds are brought back when a hold ends', () => {
    const held = line({ free: 0, held: 4, reason: 'ALL_SEATS_HELD', seatsOnHold: 4, nextReleaseAt: NOW + 20_000, releaseForPosition: NOW + 30_000 })
    expect(waitingView(6, 6, held, settings, NOW)).toMatchObject({ reason: 'ALL_SEATS_HELD', retryAfterSeconds: 32, seatsOnHold: 4 })
    expect(waitingView(7, 7, held, settings, NOW)).toMatchObject({ reason: 'OUT_OF_REACH', seatsLeft: 4, retryAfterSeconds: 7 })
  })

  it('when the line is paused or not open yet, then says so, whatever the reach', () => {
    expect(waitingView(5_000, 5_000, line({ free: 10, reason: 'PAUSED' }), settings, NOW).reason).toBe('PAUSED')
    expect(waitingView(5_000, 5_000, line({ free: 10, reason: 'NOT_OPEN_YET' }), settings, NOW).reason).toBe('NOT_OPEN_YET')
  })

  it('never tells a waiting fan to come back later than the longest hint, so a sell-out reaches everyone within it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.record({
          free: fc.option(fc.integer({ min: 0, max: 50_000 })),
          held: fc.option(fc.integer({ min: 0, max: 50_000 })),
          measuredRate: fc.option(fc.double({ min: 0, max: 5_000, noNaN: true })),
          reason: fc.constantFrom(null, 'ALL_SEATS_HELD' as const, 'PAUSED' as const, 'NOT_OPEN_YET' as const),
          seatsOnHold: fc.option(fc.integer({ min: 0, max: 50_000 })),
          nextReleaseAt: fc.option(fc.integer({ min: NOW - 60_000, max: NOW + 3_600_000 })),
          spreadSeconds: fc.option(fc.integer({ min: 1, max: MAX_RETRY_S })),
        }),
        (position, over) => {
          const view = waitingView(position, position, line(over), settings, NOW)
          expect(view.retryAfterSeconds).toBeGreaterThanOrEqual(1)
          expect(view.retryAfterSeconds).toBeLessThanOrEqual(MAX_RETRY_S)
        },
      ),
    )
  })
})

describe('viewOfPlace', () => {
  const who = { concertId: 'c1', userId: 'u1' }

  it('gives a waiting place a WAITING token that lives as long as the settings say', () => {
    const { view, claims } = viewOfPlace({ status: 'WAITING', seq: 7, joinedAt: NOW, position: 3, line: line(), created: true, presale: false }, who, settings, NOW)
    expect(view.status).toBe('WAITING')
    expect(claims).toEqual({ ...who, status: 'WAITING', seq: 7, issuedAt: NOW / 1000, expiresAt: NOW / 1000 + 86_400 })
  })

  it('gives an ACTIVE place a token that ends with the admission, and an ended place none', () => {
    const { view, claims } = viewOfPlace({ status: 'ACTIVE', seq: 7, joinedAt: NOW, activeUntil: NOW + 600_000, line: line(), created: false, presale: false }, who, settings, NOW)
    expect(view).toMatchObject({ status: 'ACTIVE', activeUntil: new Date(NOW + 600_000).toISOString() })
    expect(claims?.expiresAt).toBe(NOW / 1000 + 600)
    expect(viewOfPlace({ status: 'SOLD_OUT' }, who, settings, NOW)).toEqual({
      view: { status: 'SOLD_OUT', position: 0, estimatedWaitSeconds: 0, estimatedWaitRangeSeconds: [0, 0] },
      claims: null,
    })
  })

  it('marks a presale place in its view and its token, which keeps the mark through signing and verifying', async () => {
    const { view, claims } = viewOfPlace({ status: 'WAITING', seq: 9, joinedAt: NOW, position: 1, line: line(), created: true, presale: true }, who, settings, NOW)
    expect(view).toMatchObject({ status: 'WAITING', position: 1, presale: true })
    expect(claims).toMatchObject({ seq: 9, presale: true })
    const key = queueTokenKey('a-secret-that-is-long-enough-for-hs256!')
    const verdict = await verifyQueueToken(key, await signQueueToken(key, claims!), { nowMs: NOW })
    expect(verdict).toMatchObject({ ok: true, claims: { seq: 9, presale: true } })
    const general = viewOfPlace({ status: 'WAITING', seq: 10, joinedAt: NOW, position: 2, line: line(), created: true, presale: false }, who, settings, NOW)
    expect(general.view).not.toHaveProperty('presale')
    expect(general.claims).not.toHaveProperty('presale')
  })
})
