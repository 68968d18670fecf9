import { anEnvelope, SUBJECTS, type ReservationConfirmed, type ReservationHeld, type ReservationReleased } from '@tickets/contracts/events'
import { publishEvent } from '@tickets/shared/nats'
import { isolation } from '@tickets/testkit'
import { describe, expect, it, vi } from 'vitest'
import { lineControls } from '../../src/ops.js'
import { aConcertId, buildTestApp, join, leave, manualClock, poll } from '../helpers/build-test-app.js'
import { serveInventory } from '../helpers/booking-stand-in.js'

const iso = isolation(import.meta.url)
const clock = manualClock(Date.now())
const app = await buildTestApp(iso, { ADMISSION_RATE_PER_SECOND: '100', ADMISSION_OVERBOOK: '1', INVENTORY_OVERDUE_SECONDS: '5' }, { clock, consumers: true })
const controls = lineControls(app.redis)

// Booking's side of the resync, as its contract says: the test keeps what booking's database holds.
const booking = new Map<string, { total: number; sold: number; holds: { reservationId: string; userId: string; until: number }[] }>()
serveInventory(app, (concertId) => {
  const truth = booking.get(concertId)
  return truth ? { exists: true, asOf: clock.now(), total: truth.total, sold: truth.sold, opensAt: null, holds: truth.holds } : { exists: false }
})

async function step() {
  clock.advance(1_000)
  return app.queue.tick()
}

function seat(concertId: string, reservationId: string, userId: string) {
  return { reservationId, userId, concertId, scheduleId: 's1', seatNumber: Number(reservationId.replace(/\D/g, '')) || 1 }
}
const held = (concertId: string, r: string, u: string, until = clock.now() + 300_000): ReservationHeld => ({
  ...seat(concertId, r, u),
  price: 1,
  expiresAt: new Date(until).toISOString(),
})
const at = (ms = clock.now()) => ({ occurredAt: new Date(ms) })

async function publish<T>(subject: (typeof SUBJECTS)[keyof typeof SUBJECTS], data: T, when = at()) {
  await publishEvent(app.nats, subject, anEnvelope(subject, data, when))
}

async function lineOf(concertId: string, users: string[]) {
  const tokens: Record<string, string> = {}
  for (const u of users) tokens[u] = (await join(app, u, concertId)).json().token
  return tokens
}

describe('inventory from booking', () => {
  it('when every unsold seat is held, then nobody is admitted (ALL_SEATS_HELD); when a hold ends, the next fan is', async () => {
    const concertId = aConcertId()
    booking.set(concertId, { total: 3, sold: 0, holds: [] })
    const tokens = await lineOf(concertId, ['a', 'b', 'c', 'd', 'e'])
    await app.queueInventory.resync(concertId)
    expect(await step()).toEqual({ [concertId]: 3 })

    for (const [r, u] of [
      ['r1', 'a'],
      ['r2', 'b'],
      ['r3', 'c'],
    ] as const)
      await publish(SUBJECTS.RESERVATION_HELD, held(concertId, r, u, clock.now() + 60_000))
    await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toMatchObject({ onHold: 3, free: 0 }))
    expect(await step()).toEqual({ [concertId]: 0 })
    const waiting = await poll(app, 'e', tokens.e!)
    expect(waiting.json()).toMatchObject({ status: 'WAITING', position: 2, reason: 'ALL_SEATS_HELD', seatsOnHold: 3, nextReleaseAt: new Date(clock.now() + 59_000).toISOString() })
    // Not before the second hold to end (its seat would be e's) has ended and been released, nor past a minute.
    expect(Number(waiting.headers['retry-after'])).toBe(60)
    expect(waiting.json().estimatedWaitSeconds).toBeGreaterThanOrEqual(59)
    expect((await controls.status(concertId)).waitReason).toBe('ALL_SEATS_HELD')

    // b gives the seat up and stays ACTIVE: b may still buy it, so nobody else is admitted for it yet.
    const released: ReservationReleased = { ...seat(concertId, 'r2', 'b'), reason: 'CANCELLED' }
    await publish(SUBJECTS.RESERVATION_RELEASED, released)
    await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toMatchObject({ onHold: 2, free: 1 }))
    expect(await step()).toEqual({ [concertId]: 0 })
    expect((await poll(app, 'e', tokens.e!)).json()).not.toHaveProperty('reason')
    const bActive = (await poll(app, 'b', tokens.b!)).json().token
    expect((await leave(app, 'b', bActive)).statusCode).toBe(204)
    expect(await step()).toEqual({ [concertId]: 1 })
    expect((await poll(app, 'd', tokens.d!)).json().status).toBe('ACTIVE')
    expect((await poll(app, 'e', tokens.e!)).json()).not.toHaveProperty('reason')
  })

  it('when events come twice or a hold arrives after its end, then the counts do not move', async () => {
    const concertId = aConcertId()
    booking.set(concertId, { total: 5, sold: 0, holds: [] })
    await lineOf(concertId, ['x'])
    await app.queueInventory.resync(concertId)
    const confirmed: ReservationConfirmed = { ...seat(concertId, 'r1', 'x'), paymentId: 'p1', price: 1, concertSoldOut: false }
    await publish(SUBJECTS.RESERVATION_CONFIRMED, confirmed, at(clock.now() + 10))
    await publish(SUBJECTS.RESERVATION_HELD, held(concertId, 'r1', 'x'), at(clock.now() + 5))
    await publish(SUBJECTS.RESERVATION_HELD, held(concertId, 'r2', 'x'), at(clock.now() + 20))
    await publish(SUBJECTS.RESERVATION_HELD, held(concertId, 'r2', 'x'), at(clock.now() + 20))
    await app.nats.js.publish(app.nats.names.subject(SUBJECTS.RESERVATION_CONFIRMED), JSON.stringify(anEnvelope(SUBJECTS.RESERVATION_CONFIRMED, confirmed, at(clock.now() + 10))), {
      msgID: `again-${concertId}`,
    })
    const marker: ReservationReleased = { ...seat(concertId, 'r9', 'x'), reason: 'EXPIRED' }
    await publish(SUBJECTS.RESERVATION_RELEASED, marker, at(clock.now() + 30))
    await vi.waitFor(async () => expect(await app.redis.zscore(`{q:${concertId}}:end:e`, 'r9')).not.toBeNull())
    await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toEqual(expect.objectContaining({ total: 5, sold: 1, onHold: 1, free: 3 })))
  })

  it('when a release was lost, then a hold past its deadline makes the line ask booking again and the seat is free', async () => {
    const { concertId, tokens } = await oneSeatHeldWhile(['q'], { reservationId: 'r5', userId: 'z', forMs: 2_000 })
    expect((await poll(app, 'q', tokens.q!)).json()).toMatchObject({ status: 'WAITING', reason: 'ALL_SEATS_HELD' })
    // Booking swept the hold; its release event never reached the line.
    for (let i = 0; i < 8; i++) await step()
    await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toMatchObject({ onHold: 0, free: 1 }))
    await step()
    expect((await poll(app, 'q', tokens.q!)).json().status).toBe('ACTIVE')
  })

  it('when a hold was never announced, then the periodic resync finds it', async () => {
    const concertId = aConcertId()
    booking.set(concertId, { total: 2, sold: 0, holds: [] })
    await lineOf(concertId, ['m'])
    await app.queueInventory.resync(concertId)
    booking.set(concertId, { total: 2, sold: 1, holds: [{ reservationId: 'r7', userId: 'n', until: clock.now() + 300_000 }] })
    clock.advance(61_000)
    await app.queue.tick()
    await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toMatchObject({ sold: 1, onHold: 1, free: 0 }))
  })
})

/** A concert of one seat, held by someone else for `forMs`, with `fans` in its line: the line knows it and has stepped. */
async function oneSeatHeldWhile(fans: string[], hold: { reservationId: string; userId: string; forMs: number }) {
  const concertId = aConcertId()
  booking.set(concertId, { total: 1, sold: 0, holds: [] })
  const tokens = await lineOf(concertId, fans)
  await app.queueInventory.resync(concertId)
  await publish(SUBJECTS.RESERVATION_HELD, held(concertId, hold.reservationId, hold.userId, clock.now() + hold.forMs))
  await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toMatchObject({ onHold: 1, free: 0 }))
  await step()
  return { concertId, tokens }
}

describe('fans told to come back after the holds', () => {
  it('when the awaited hold ends after the idle timeout, then the fan is asked back within a minute and keeps their place', async () => {
    const { tokens } = await oneSeatHeldWhile(['patient'], { reservationId: 'r1', userId: 'walker', forMs: 400_000 })
    const told = await poll(app, 'patient', tokens.patient!)
    expect(Number(told.headers['retry-after'])).toBe(60)
    clock.advance(350_000)
    await step()
    expect((await poll(app, 'patient', tokens.patient!)).json()).toMatchObject({ status: 'WAITING', position: 1 })
  })
})

describe('idle ACTIVE fans', () => {
  it('when an admitted fan without a hold is not seen for ACTIVE_IDLE_SECONDS, then the slot goes to the next fan', async () => {
    const concertId = aConcertId()
    await controls.setCap(concertId, 2)
    const tokens = await lineOf(concertId, ['idle', 'holder', 'next'])
    await step()
    const active = (await poll(app, 'idle', tokens.idle!)).json().token
    await publish(SUBJECTS.RESERVATION_HELD, held(concertId, 'r1', 'holder', clock.now() + 600_000))
    await vi.waitFor(async () => expect(await app.redis.hexists(`{q:${concertId}}:uholds`, 'holder')).toBe(1))
    clock.advance(60_000)
    await step()
    expect((await poll(app, 'next', tokens.next!)).json().status).toBe('WAITING')
    clock.advance(31_000)
    await step()
    expect((await poll(app, 'idle', active)).json().status).toBe('EXPIRED')
    expect(await app.redis.get(`{q:${concertId}}:rev:idle`)).not.toBeNull()
    expect((await poll(app, 'holder', tokens.holder!)).json().status).toBe('ACTIVE')
    await step()
    expect((await poll(app, 'next', tokens.next!)).json().status).toBe('ACTIVE')
  })

  it('when the gateway saw the fan recently, then the slot stays', async () => {
    const concertId = aConcertId()
    const tokens = await lineOf(concertId, ['seen'])
    await step()
    clock.advance(80_000)
    await app.redis.zadd(`{q:${concertId}}:seen-active`, 'XX', 'GT', clock.now(), 'seen')
    clock.advance(20_000)
    await step()
    expect((await poll(app, 'seen', tokens.seen!)).json().status).toBe('ACTIVE')
  })
})
