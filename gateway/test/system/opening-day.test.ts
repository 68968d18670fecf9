// Opening day through the gateway with the real booking and queue services: the line knows the
// inventory from booking (snapshot and events), says ALL_SEATS_HELD when every seat is on hold,
// moves again when a hold ends, and slows admission by itself while booking is slow.
import { buildApp as buildBookingApp } from '@tickets/booking-service/app'
import { ConfigSchema as BookingConfigSchema } from '@tickets/booking-service/config'
import { createConcert, migrate as migrateBooking } from '@tickets/booking-service/ops'
import { buildApp as buildQueueApp } from '@tickets/queue-service/app'
import { ConfigSchema as QueueConfigSchema } from '@tickets/queue-service/config'
import { lineControls } from '@tickets/queue-service/ops'
import { signUserToken } from '@tickets/contracts/auth'
import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig, TEST_SECRET } from '../helpers/build-test-app.js'

const iso = isolation(import.meta.url)
const bookingDb = mysqlUrl(iso.database('booking'))
await migrateBooking(bookingDb)
const env = { INTERNAL_SECRET: TEST_INTERNAL_SECRET, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_SECRET }

let slowHolds = false
const booking = await buildBookingApp(loadConfig(BookingConfigSchema, { ...env, MYSQL_URL: bookingDb }), { defaultMetrics: false })
// Booking made slow on purpose: every hold takes 800 ms more while the switch is on (the target is 500 ms,
// far from both, so a busy test machine does not decide the outcome).
booking.addHook('onRequest', async (request) => {
  if (slowHolds && request.method === 'POST' && request.url === '/api/reservations') await new Promise((r) => setTimeout(r, 800))
})
const queue = await buildQueueApp(
  loadConfig(QueueConfigSchema, {
    ...env,
    ADMISSION_TICK_MS: '200',
    ADMISSION_RATE_PER_SECOND: '50',
    ADMISSION_OVERBOOK: '1',
    BACKOFF_HOLD_P95_MS: '500',
    BACKOFF_RECOVERY_PER_SECOND: '1',
    INVENTORY_RESYNC_SECONDS: '3600',
  }),
  { defaultMetrics: false },
)
const bookingUrl = await booking.listen({ port: 0, host: '127.0.0.1' })
const queueUrl = await queue.listen({ port: 0, host: '127.0.0.1' })
const gateway = await buildApp(testConfig(iso.redisPrefix, { QUEUE_URLS: queueUrl, BOOKING_URLS: bookingUrl, PAYMENT_URLS: bookingUrl, ACTIVITY_FLUSH_MS: '200' }), {
  defaultMetrics: false,
})
const controls = lineControls(queue.redis)
afterAll(async () => {
  await gateway.close()
  await Promise.all([queue.close(), booking.close()])
  await dropDatabase(bookingDb)
})

async function fan(userId: string) {
  const auth = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, extra: { token?: string; payload?: object } = {}) =>
    gateway.inject({
      method,
      url,
      headers: { authorization: auth, ...(extra.token ? { 'x-queue-token': extra.token } : {}) },
      ...(extra.payload ? { payload: extra.payload } : {}),
    })
  return {
    call,
    async join(concertId: string) {
      const joined = await call('POST', '/api/queue/token', { payload: { concertId } })
      expect(joined.statusCode).toBe(201)
      return joined.json().token as string
    },
    poll: (token: string) => call('GET', '/api/queue/token', { token }),
    async untilActive(token: string) {
      let active = ''
      await vi.waitFor(
        async () => {
          const view = (await call('GET', '/api/queue/token', { token })).json()
          expect(view.status).toBe('ACTIVE')
          active = view.token
        },
        { timeout: 5_000, interval: 100 },
      )
      return active
    },
    hold: (token: string, scheduleId: string, seatNumber: number) => call('POST', '/api/reservations', { token, payload: { scheduleId, seatNumber } }),
  }
}

describe('the line and the inventory', () => {
  it('when fans hold every seat, then waiting fans read ALL_SEATS_HELD; when a holder leaves, the next is admitted', async () => {
    const { concertId, scheduleIds } = await createConcert(bookingDb, { title: 'Small hall', dates: 1, seatsPerSchedule: 2 })
    const scheduleId = scheduleIds[0]!
    const [a, b, c, d] = await Promise.all(['h-a', 'h-b', 'h-c', 'h-d'].map(fan))
    const waitingA = await a!.join(concertId)
    const waitingB = await b!.join(concertId)
    const [activeA, activeB] = await Promise.all([a!.untilActive(waitingA), b!.untilActive(waitingB)])
    // One fan per seat (overbook 1): with a and b ACTIVE and holding nothing yet, c and d wait.
    const waitingC = await c!.join(concertId)
    const waitingD = await d!.join(concertId)

    const holdA = await a!.hold(activeA, scheduleId, 1)
    expect(holdA.statusCode).toBe(201)
    expect((await b!.hold(activeB, scheduleId, 2)).statusCode).toBe(201)
    const heldAt = Date.now()
    let told: Record<string, unknown> = {}
    await vi.waitFor(
      async () => {
        told = (await c!.poll(waitingC)).json()
        expect(told).toMatchObject({ status: 'WAITING', reason: 'ALL_SEATS_HELD', seatsOnHold: 2 })
      },
      { timeout: 2_000, interval: 50 },
    )
    expect(Date.now() - heldAt).toBeLessThan(2_000)
    expect(Date.parse(told.nextReleaseAt as string)).toBeGreaterThan(Date.now())
    expect((await controls.status(concertId)).inventory).toMatchObject({ total: 2, sold: 0, onHold: 2, free: 0 })
    expect((await d!.poll(waitingD)).json()).toMatchObject({ status: 'WAITING', position: 2 })

    expect((await a!.call('DELETE', `/api/reservations/${holdA.json().reservationId}`)).statusCode).toBe(204)
    expect((await a!.call('DELETE', '/api/queue/token', { token: activeA })).statusCode).toBe(204)
    await c!.untilActive(waitingC)
    expect((await d!.poll(waitingD)).json()).toMatchObject({ status: 'WAITING', position: 1 })
  })
})

describe('admission that watches booking', () => {
  it('when holds get slow, then the rate backs off and says why; when they are fast again, it returns to the ceiling', async () => {
    const { concertId, scheduleIds } = await createConcert(bookingDb, { title: 'Slow night', dates: 1, seatsPerSchedule: 50 })
    const scheduleId = scheduleIds[0]!
    // Ten fans holding at once: each 1-s pressure report sees enough holds for a p95.
    const fans = await Promise.all(Array.from({ length: 10 }, (_, i) => fan(`s-${i}`)))
    const actives = await Promise.all(fans.map(async (f) => f.untilActive(await f.join(concertId))))
    const holdAll = (seat: number) => Promise.all(fans.map((f, i) => f.hold(actives[i]!, scheduleId, seat + i)))

    slowHolds = true
    await vi.waitFor(
      async () => {
        await holdAll(1)
        const status = await controls.status(concertId)
        expect(status.backoff).toMatch(/booking p95 \d+ ms > 500 ms/)
        expect(status.effectiveRatePerSecond).toBeLessThanOrEqual(25)
      },
      { timeout: 10_000, interval: 100 },
    )
    slowHolds = false
    await vi.waitFor(
      async () => {
        await holdAll(20)
        const status = await controls.status(concertId)
        expect(status.effectiveRatePerSecond).toBe(50)
        expect(status.backoff).toBe('healthy')
      },
      { timeout: 10_000, interval: 200 },
    )
  })
})
