// Polls of fans far back in line, answered by the gateway from the line's summary, against the real
// queue and booking services: the same answer as the queue service's but for an estimated position,
// the poll still keeps the fan in line, and near the front the queue service answers exactly.
import { createConcert } from '@tickets/booking-service/ops'
import { USER_ID_HEADER, signUserToken } from '@tickets/contracts/auth'
import { queueWaitingSeenKey } from '@tickets/contracts/queue-line'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig, TEST_SECRET } from '../helpers/build-test-app.js'
import { realLine } from '../helpers/real-services.js'
import { fromGateway } from '@tickets/testkit'

// One admission a second: the front 100 places (the minimum) ask the queue service, the rest the gateway.
const { iso, bookingDb, bookingUrl, queueUrl, queue } = await realLine(import.meta.url, {
  ADMISSION_TICK_MS: '200',
  ADMISSION_RATE_PER_SECOND: '1',
  INVENTORY_RESYNC_SECONDS: '3600',
})
const gateway = await buildApp(
  testConfig(iso.redisPrefix, { QUEUE_URLS: queueUrl, BOOKING_URLS: bookingUrl, PAYMENT_URLS: bookingUrl, ACTIVITY_FLUSH_MS: '100', LINE_SUMMARY_REFRESH_MS: '50' }),
  { defaultMetrics: false },
)
afterAll(() => gateway.close())

const FANS = 400
const { concertId } = await createConcert(bookingDb, { title: 'Far back', dates: 1, seatsPerSchedule: 1_000 })
const tokens: string[] = []
for (let i = 0; i < FANS; i += 50) {
  const joined = await Promise.all(
    Array.from({ length: 50 }, (_, j) =>
      queue.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { [USER_ID_HEADER]: `far-${i + j}` }, payload: { concertId } })),
    ),
  )
  tokens.push(...joined.map((r) => r.json().token as string))
}

async function pollAtGateway(i: number) {
  const auth = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: `far-${i}` })}`
  return gateway.inject({ method: 'GET', url: '/api/queue/token', headers: { authorization: auth, 'x-queue-token': tokens[i]! } })
}
const pollAtQueue = (i: number) => queue.inject(fromGateway({ method: 'GET', url: '/api/queue/token', headers: { [USER_ID_HEADER]: `far-${i}`, 'x-queue-token': tokens[i]! } }))

describe('polls far back in line', () => {
  it('when a fan is far back, then the gateway estimates a position close to the exact one and keeps the fan in line', async () => {
    const last = FANS - 1
    let answer: Awaited<ReturnType<typeof pollAtGateway>> | undefined
    await vi.waitFor(
      async () => {
        answer = await pollAtGateway(last)
        expect(answer.json().positionEstimated).toBe(true)
      },
      { timeout: 5_000, interval: 100 },
    )
    const exact = await pollAtQueue(last)
    const here = answer!.json()
    const there = exact.json()
    expect(answer!.statusCode).toBe(200)
    expect(here).toMatchObject({ status: 'WAITING', token: tokens[last] })
    expect(Math.abs(here.position - there.position)).toBeLessThanOrEqual(2)
    expect(Math.abs(here.estimatedWaitSeconds - there.estimatedWaitSeconds)).toBeLessThanOrEqual(3)
    expect(Math.abs(Number(answer!.headers['retry-after']) - Number(exact.headers['retry-after']))).toBeLessThanOrEqual(1)

    // Nobody else saw this fan since: the gateway's batched sighting is what moves the idle clock.
    const seenKey = queueWaitingSeenKey(concertId)
    const before = Number(await queue.redis.zscore(seenKey, `far-${FANS - 2}`))
    await pollAtGateway(FANS - 2)
    await vi.waitFor(async () => expect(Number(await queue.redis.zscore(seenKey, `far-${FANS - 2}`))).toBeGreaterThan(before), { timeout: 2_000, interval: 50 })
  })

  it('when a fan is near the front, then the queue service answers exactly', async () => {
    // Sixty places from the front: a minute from admission at one a second, inside the near band.
    const near = await pollAtGateway(60)
    expect(near.statusCode).toBe(200)
    expect(near.json()).toMatchObject({ status: 'WAITING' })
    expect(near.json().positionEstimated).toBeUndefined()
    // The line may have moved by one between the two polls.
    expect(Math.abs(near.json().position - (await pollAtQueue(60)).json().position)).toBeLessThanOrEqual(1)
  })

  it("when the token is not the caller's or not valid, then the gateway does not answer from the summary", async () => {
    const auth = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: 'someone-else' })}`
    const other = await gateway.inject({ method: 'GET', url: '/api/queue/token', headers: { authorization: auth, 'x-queue-token': tokens[FANS - 1]! } })
    expect(other.statusCode).toBe(403)
    const forged = await gateway.inject({ method: 'GET', url: '/api/queue/token', headers: { authorization: auth, 'x-queue-token': `${tokens[FANS - 1]!}x` } })
    expect(forged.statusCode).toBe(401)
  })
})
