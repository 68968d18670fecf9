// Two real booking instances, each its own process, behind one gateway, with buyers and readers
// throughout. One instance is paused (SIGSTOP: its port takes connections and nothing answers), then
// the other, then they come back. No request may wait past its route's deadline, and no hold may be
// lost: a 201 is a hold that exists, a 503 one that does not.
import { createConcert, migrate as migrateBooking } from '@tickets/booking-service/ops'
import { signUserToken } from '@tickets/contracts/auth'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl, startServiceProcess } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { activeQueueHeaders, buildTestApp, TEST_SECRET } from '../helpers/build-test-app.js'
import { anUpstream } from '../helpers/upstream.js'

const READ_MS = 1_000
const WRITE_MS = 3_000
// What a starved machine may add to a deadline before the answer is seen here.
const SLACK_MS = 1_500

const iso = isolation(import.meta.url)
const db = mysqlUrl(iso.database('booking'))
await migrateBooking(db)
const { concertId, scheduleIds } = await createConcert(db, { title: 'Hung instance', dates: 1, seatsPerSchedule: 2_000 })
const scheduleId = scheduleIds[0]!
const bookingServer = new URL('../../../booking-service/dist/server.js', import.meta.url)
const bookingEnv = { MYSQL_URL: db, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace }
const [a, b] = await Promise.all([
  startServiceProcess(bookingServer, { ...bookingEnv, INSTANCE_ID: 'booking-a' }),
  startServiceProcess(bookingServer, { ...bookingEnv, INSTANCE_ID: 'booking-b' }),
])
afterAll(async () => {
  for (const instance of [a, b]) {
    instance.resume()
    instance.stop()
  }
  await dropDatabase(db)
})
const unused = await anUpstream('unused')
const { app } = await buildTestApp(import.meta.url, {
  BOOKING_URLS: `${a.base},${b.base}`,
  QUEUE_URLS: unused.url,
  PAYMENT_URLS: unused.url,
  UPSTREAM_READ_TIMEOUT_MS: String(READ_MS),
  UPSTREAM_TIMEOUT_MS: String(WRITE_MS),
  // The defaults, spelled out: a hung instance is out within about a second.
  UPSTREAM_PROBE_INTERVAL_MS: '250',
  UPSTREAM_PROBE_TIMEOUT_MS: '750',
})

interface Answer {
  kind: 'read' | 'hold'
  status: number
  elapsed: number
  retryAfter: unknown
  contentType: unknown
  seat?: number
  user?: string
  reservationId?: string
}

const answers: Answer[] = []
let nextSeat = 1

async function fan(user: string) {
  return { authorization: `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: user })}`, ...(await activeQueueHeaders(user, concertId)) }
}

async function send(kind: Answer['kind']): Promise<Answer> {
  const seat = kind === 'hold' ? nextSeat++ : undefined
  const user = seat === undefined ? 'reader' : `fan-${seat}`
  const headers = await fan(user)
  const started = performance.now()
  const res =
    kind === 'read'
      ? await app.inject({ method: 'GET', url: `/api/concerts/${concertId}/schedules/${scheduleId}/seats`, headers })
      : await app.inject({ method: 'POST', url: '/api/reservations', headers, payload: { scheduleId, seatNumber: seat } })
  const answer: Answer = {
    kind,
    status: res.statusCode,
    elapsed: performance.now() - started,
    retryAfter: res.headers['retry-after'],
    contentType: res.headers['content-type'],
    ...(seat === undefined ? {} : { seat, user }),
    ...(res.statusCode === 201 ? { reservationId: res.json().reservationId as string } : {}),
  }
  answers.push(answer)
  return answer
}

/** Readers and buyers side by side for `ms`, each sending its next request as soon as the last is answered. */
async function traffic(ms: number) {
  const until = performance.now() + ms
  const loop = async (kind: Answer['kind']) => {
    while (performance.now() < until) {
      await send(kind)
      await new Promise((r) => setTimeout(r, 25))
    }
  }
  await Promise.all([loop('read'), loop('read'), loop('hold'), loop('hold')])
}

const burst = (kind: Answer['kind'], n = 6) => Promise.all(Array.from({ length: n }, () => send(kind)))

describe('a hung booking instance behind the gateway', () => {
  it('when one instance and then the last one stop answering, then no request outwaits its deadline, no hold is lost', async () => {
    await traffic(1_000)
    expect(answers.filter((x) => x.kind === 'hold' && x.status === 201).length).toBeGreaterThan(0)

    // One of two paused: it is ejected within about a second, and reads and holds go on at the other.
    await a.pause()
    await traffic(3_000)
    for (const x of await burst('read')) expect(x.status).toBe(200)
    for (const x of await burst('hold')) expect(x.status).toBe(201)

    // The only one left paused as well: once it is ejected, every request is a fast 503.
    await b.pause()
    await traffic(1_500)
    await expect.poll(async () => (await send('read')).status, { timeout: 5_000 }).toBe(503)
    for (const x of [...(await burst('read')), ...(await burst('hold'))]) {
      expect({ status: x.status, retryAfter: x.retryAfter }).toEqual({ status: 503, retryAfter: expect.any(String) })
      expect(x.elapsed).toBeLessThan(READ_MS)
    }

    // One comes back: a probe takes it in again, and it serves alone.
    a.resume()
    await expect.poll(async () => (await send('read')).status, { timeout: 5_000 }).toBe(200)
    b.resume()
    await traffic(1_000)

    const late = answers.filter((x) => x.elapsed > (x.kind === 'read' ? READ_MS : WRITE_MS) + SLACK_MS)
    expect(late, 'requests that waited past their deadline').toEqual([])
    expect(answers.filter((x) => x.status >= 500 && x.status !== 503 && x.status !== 504)).toEqual([])
    for (const x of answers.filter((y) => y.status >= 400)) expect(x.contentType).toContain('application/problem+json')
    for (const x of answers.filter((y) => y.status === 503)) expect(x.retryAfter).toBeDefined()

    // Nothing lost: every 201 is a hold that exists, every 503 left its seat free. (A 504 is an
    // outcome the fan was told is unknown.)
    const seats = (await app.inject({ method: 'GET', url: `/api/concerts/${concertId}/schedules/${scheduleId}/seats`, headers: await fan('reader') })).json().seats as {
      seatNumber: number
      status: string
    }[]
    const statusOf = new Map(seats.map((s) => [s.seatNumber, s.status]))
    const holds = answers.filter((x) => x.kind === 'hold')
    for (const x of holds.filter((y) => y.status === 201)) {
      const res = await app.inject({ method: 'GET', url: `/api/reservations/${x.reservationId}`, headers: await fan(x.user!) })
      expect({ seat: x.seat, status: res.statusCode, hold: res.json().status }).toEqual({ seat: x.seat, status: 200, hold: 'HELD' })
    }
    for (const x of holds.filter((y) => y.status === 503)) expect({ seat: x.seat, status: statusOf.get(x.seat!) }).toEqual({ seat: x.seat, status: 'AVAILABLE' })
  })
})
