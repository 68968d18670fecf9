// The waiting room on a real Redis Cluster of three primaries: every script and every read finds
// its keys in one slot, whichever node holds the concert.
import { anEnvelope, SUBJECTS, type PaymentCompleted, type ReservationConfirmed, type ReservationHeld } from '@tickets/contracts/events'
import { publishEvent } from '@tickets/shared/nats'
import { isCluster } from '@tickets/shared/redis'
import { isolation } from '@tickets/testkit'
import { startRedisCluster } from '@tickets/testkit/clusters'
import { execFileSync } from 'node:child_process'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { lineControls } from '../../src/ops.js'
import { aConcertId, buildTestApp, join, leave, manualClock, poll } from '../helpers/build-test-app.js'
import { serveInventory } from '../helpers/booking-stand-in.js'

const cluster = await startRedisCluster()
afterAll(() => cluster.dispose())
const iso = isolation(import.meta.url)
const clock = manualClock(Date.now())
// Correctness here, not the fail-fast deadline (redis-down.test.ts): a busy machine must not turn a slow step into a 503.
const settings = {
  REDIS_URL: cluster.url,
  QUEUE_REDIS_TIMEOUT_MS: '5000',
  REDIS_TIMEOUT_MS: '5000',
  ADMISSION_RATE_PER_SECOND: '2',
  ACTIVE_TTL_SECONDS: '60',
  ACTIVE_IDLE_SECONDS: '30',
  WAITING_IDLE_TIMEOUT_SECONDS: '3600',
}
const a = await buildTestApp(iso, { ...settings, INSTANCE_ID: 'queue-a' }, { clock, consumers: true })
const b = await buildTestApp(iso, { ...settings, INSTANCE_ID: 'queue-b' }, { clock })
const controls = lineControls(b.redis)

const seats = new Map<string, number>()
serveInventory(a, (concertId) => {
  const total = seats.get(concertId)
  return total === undefined ? { exists: false } : { exists: true, asOf: clock.now(), total, sold: 0, opensAt: null, holds: [] }
})

async function step(concertId: string): Promise<number> {
  clock.advance(1_000)
  const [x, y] = await Promise.all([a.queue.tick(), b.queue.tick()])
  return (x[concertId] ?? 0) + (y[concertId] ?? 0)
}

function keysPerNode(): number[] {
  return cluster.nodes.map((n) => Number(execFileSync('redis-cli', ['-p', String(n.port), 'dbsize'], { encoding: 'utf8' }).trim()))
}

describe('the waiting room on a Redis Cluster', () => {
  it('when fans of six concerts join, poll and leave through two instances, then each line keeps its order and counts', async () => {
    expect(isCluster(a.redis)).toBe(true)
    const concerts = Array.from({ length: 6 }, aConcertId)
    for (const concertId of concerts) {
      const tokens: string[] = []
      for (let i = 0; i < 5; i++) {
        const joined = await join(i % 2 ? a : b, `fan-${i}`, concertId)
        expect(joined.statusCode).toBe(201)
        expect(joined.json()).toMatchObject({ status: 'WAITING', position: i + 1 })
        tokens.push(joined.json().token)
      }
      expect(await step(concertId)).toBe(2)
      const first = (await poll(b, 'fan-0', tokens[0]!)).json()
      expect(first.status).toBe('ACTIVE')
      expect((await poll(a, 'fan-4', tokens[4]!)).json()).toMatchObject({ status: 'WAITING', position: 3 })
      expect((await leave(a, 'fan-0', first.token)).statusCode).toBe(204)
      expect((await poll(a, 'fan-0', first.token)).json().status).toBe('EXPIRED')
      await controls.setRate(concertId, 10)
      expect(await step(concertId)).toBe(3)
      expect(await controls.status(concertId)).toMatchObject({ waiting: 0, active: 4, ratePerSecond: 10 })
    }
    // The concerts' lines landed on more than one primary: the cluster really spread them.
    expect(keysPerNode().filter((n) => n > 0).length).toBeGreaterThan(1)
    // A step that releases idle ACTIVE fans revokes their tokens: keys built inside the script, with the prefix.
    clock.advance(31_000)
    await step(concerts[0]!)
    expect(await controls.status(concerts[0]!)).toMatchObject({ active: 0 })
    expect(await b.redis.exists(`{q:${concerts[0]}}:rev:fan-1`)).toBe(1)
  })

  it('when a hold, its confirmation and two payments are reported, then the seat counts once and the buyer leaves once', async () => {
    const concertId = aConcertId()
    seats.set(concertId, 4)
    const token = (await join(a, 'buyer', concertId)).json().token
    await a.queueInventory.resync(concertId)
    expect(await step(concertId)).toBe(1)
    const active = (await poll(a, 'buyer', token)).json()
    expect(active.status).toBe('ACTIVE')
    const seat = { reservationId: 'r1', userId: 'buyer', concertId, scheduleId: 's1', seatNumber: 1 }
    const held: ReservationHeld = { ...seat, price: 1, expiresAt: new Date(clock.now() + 60_000).toISOString() }
    await publishEvent(a.nats, SUBJECTS.RESERVATION_HELD, anEnvelope(SUBJECTS.RESERVATION_HELD, held, { occurredAt: new Date(clock.now()) }))
    await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toMatchObject({ onHold: 1, free: 3 }))
    const confirmed: ReservationConfirmed = { ...seat, paymentId: 'p1', price: 1, concertSoldOut: false }
    await publishEvent(a.nats, SUBJECTS.RESERVATION_CONFIRMED, anEnvelope(SUBJECTS.RESERVATION_CONFIRMED, confirmed, { occurredAt: new Date(clock.now() + 10) }))
    await vi.waitFor(async () => expect((await controls.status(concertId)).inventory).toMatchObject({ sold: 1, onHold: 0, free: 3 }))

    const paid = anEnvelope(SUBJECTS.PAYMENT_COMPLETED, { paymentId: 'p1', reservationId: 'r1', userId: 'buyer', concertId, amount: 1 } satisfies PaymentCompleted)
    await publishEvent(a.nats, SUBJECTS.PAYMENT_COMPLETED, paid)
    await vi.waitFor(async () => expect((await poll(b, 'buyer', active.token)).json().status).toBe('EXPIRED'))
    const again = (await poll(a, 'buyer', (await join(b, 'buyer', concertId)).json().token)).json()
    expect(await step(concertId)).toBe(1)
    const activeAgain = (await poll(a, 'buyer', again.token)).json()
    expect(activeAgain.status).toBe('ACTIVE')
    await a.nats.js.publish(a.nats.names.subject(SUBJECTS.PAYMENT_COMPLETED), JSON.stringify(paid), { msgID: `${paid.id}-redelivered` })
    const marker = anEnvelope(SUBJECTS.PAYMENT_COMPLETED, { paymentId: 'p2', reservationId: 'r2', userId: 'someone-else', concertId, amount: 1 } satisfies PaymentCompleted)
    await publishEvent(a.nats, SUBJECTS.PAYMENT_COMPLETED, marker)
    await vi.waitFor(async () => expect(await b.redis.exists(`{q:${concertId}}:evt:${marker.id}`)).toBe(1))
    expect((await poll(b, 'buyer', activeAgain.token)).json().status).toBe('ACTIVE')
  })
})
