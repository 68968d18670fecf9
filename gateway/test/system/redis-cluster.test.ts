// The gateway's waiting room and rate limits on a real Redis Cluster of three primaries, with the
// real queue and booking services: its reads and writes that span concerts or clients are split per
// slot, so none is refused as CROSSSLOT.
import { createConcert } from '@tickets/booking-service/ops'
import { USER_ID_HEADER, signUserToken } from '@tickets/contracts/auth'
import { queueWaitingSeenKey } from '@tickets/contracts/queue-line'
import { isCluster } from '@tickets/shared/redis'
import { fromGateway } from '@tickets/testkit'
import { startRedisCluster } from '@tickets/testkit/clusters'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig, TEST_SECRET } from '../helpers/build-test-app.js'
import { realLine } from '../helpers/real-services.js'

const cluster = await startRedisCluster()
afterAll(() => cluster.dispose())
// Correctness here, not the fail-fast deadlines (waiting-room-redis-down.test.ts): a busy machine must not turn a slow call into a 503.
const patient = { REDIS_URL: cluster.url, REDIS_TIMEOUT_MS: '5000', QUEUE_REDIS_TIMEOUT_MS: '5000' }
const { iso, bookingDb, bookingUrl, queueUrl, queue } = await realLine(import.meta.url, {
  ...patient,
  ADMISSION_TICK_MS: '200',
  ADMISSION_RATE_PER_SECOND: '1',
  INVENTORY_RESYNC_SECONDS: '3600',
})
const gatewayConfig = testConfig(iso.redisPrefix, {
  ...patient,
  QUEUE_URLS: queueUrl,
  BOOKING_URLS: bookingUrl,
  PAYMENT_URLS: bookingUrl,
  ACTIVITY_FLUSH_MS: '100',
  LINE_SUMMARY_REFRESH_MS: '50',
  RATE_LIMIT_GLOBAL_MAX: '5',
  RATE_LIMIT_GLOBAL_WINDOW_MS: '30000',
  RATE_LIMIT_TOKEN_SYNC_MS: '5',
})
const [a, b] = [await buildApp(gatewayConfig, { defaultMetrics: false }), await buildApp(gatewayConfig, { defaultMetrics: false })]
afterAll(() => Promise.all([a.close(), b.close()]))

let address = 0
/** An address of its own per request of the waiting-room tests: the global limit of 5 is per address. */
const newAddress = () => `10.0.${Math.floor(++address / 250)}.${(address % 250) + 1}`
const auth = async (user: string) => `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: user })}`

const FANS = 130
/** The primary that serves a concert's line (every key of it carries the tag `{q:<concertId>}`). */
async function primaryOf(concertId: string): Promise<string> {
  const slot = Number(await a.redis.cluster('KEYSLOT', `{q:${concertId}}`))
  return String(isCluster(a.redis) ? a.redis.slots[slot]?.[0] : undefined)
}
// Three concerts whose lines live on three different primaries: a batch that spans them is one a cluster would refuse.
const concerts: string[] = []
const primaries = new Set<string>()
for (let n = 0; primaries.size < 3 && n < 50; n++) {
  const { concertId } = await createConcert(bookingDb, { title: `Cluster ${n}`, dates: 1, seatsPerSchedule: 20 })
  const primary = await primaryOf(concertId)
  if (primaries.has(primary)) continue
  primaries.add(primary)
  concerts.push(concertId)
}
const tokens = new Map<string, string[]>()
for (const concertId of concerts) {
  const joined = await Promise.all(
    Array.from({ length: FANS }, (_, i) =>
      queue.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { [USER_ID_HEADER]: `fan-${i}` }, payload: { concertId } })),
    ),
  )
  tokens.set(
    concertId,
    joined.map((r) => r.json().token as string),
  )
}

async function pollAtGateway(concertId: string, i: number) {
  const headers = { authorization: await auth(`fan-${i}`), 'x-queue-token': tokens.get(concertId)![i]! }
  return a.inject({ method: 'GET', url: '/api/queue/token', headers, remoteAddress: newAddress() })
}

async function answeredHere(move: string): Promise<number> {
  const metric = await a.metrics.getSingleMetric('gateway_queue_answers_total')?.get()
  return (metric?.values ?? []).filter((v) => v.labels.move === move).reduce((sum, v) => sum + v.value, 0)
}

describe('the gateway on a Redis Cluster', () => {
  it('when fans far back in three lines poll, then the gateway answers each from its summary and reports all sightings', async () => {
    expect(isCluster(a.redis)).toBe(true)
    const last = FANS - 1
    for (const concertId of concerts) {
      await vi.waitFor(async () => expect((await pollAtGateway(concertId, last)).json()).toMatchObject({ status: 'WAITING', positionEstimated: true }), {
        timeout: 10_000,
        interval: 100,
      })
    }
    const seen = (concertId: string) => queue.redis.zscore(queueWaitingSeenKey(concertId), `fan-${last - 1}`).then(Number)
    const before = await Promise.all(concerts.map(seen))
    await Promise.all(concerts.map((concertId) => pollAtGateway(concertId, last - 1)))
    await vi.waitFor(async () => expect((await Promise.all(concerts.map(seen))).every((at, i) => at > before[i]!)).toBe(true), { timeout: 5_000, interval: 50 })
  })

  it('when a fan joins at the gateway, then the gateway places them on the line itself, after the others', async () => {
    for (const concertId of concerts) {
      const before = await answeredHere('join')
      await vi.waitFor(
        async () => {
          const joined = await a.inject({
            method: 'POST',
            url: '/api/queue/token',
            headers: { authorization: await auth(`late-${concertId}`) },
            payload: { concertId },
            remoteAddress: newAddress(),
          })
          expect(joined.statusCode).toBe(201)
          expect(await answeredHere('join')).toBeGreaterThan(before)
        },
        { timeout: 10_000, interval: 100 },
      )
      const there = await queue.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { [USER_ID_HEADER]: `late-${concertId}` }, payload: { concertId } }))
      expect(there.json()).toMatchObject({ status: 'WAITING' })
      expect(there.json().position).toBeGreaterThan(FANS - 10)
    }
  })

  it('when thirty clients spend their limit at one instance, then after a sync the other instance refuses each of them', async () => {
    const clients = Array.from({ length: 30 }, (_, i) => `192.0.2.${i + 1}`)
    const get = (app: typeof a, remoteAddress: string) => app.inject({ method: 'GET', url: '/api/concerts', remoteAddress }).then((r) => r.statusCode)
    const shared = () => Promise.all(clients.map((ip) => a.redis.get(`rl:global:${ip}`).then(Number)))
    for (const ip of clients) for (let i = 0; i < 5; i++) expect(await get(a, ip)).toBe(200)
    await vi.waitFor(async () => expect(await shared()).toEqual(clients.map(() => 5)), { timeout: 5_000, interval: 20 })
    // b decides one request from memory, then hears the others' hits at its sync.
    expect(await Promise.all(clients.map((ip) => get(b, ip)))).toEqual(clients.map(() => 200))
    await vi.waitFor(async () => expect(await shared()).toEqual(clients.map(() => 6)), { timeout: 5_000, interval: 20 })
    expect(await Promise.all(clients.map((ip) => get(b, ip)))).toEqual(clients.map(() => 429))
  })
})
