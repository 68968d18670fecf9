// Joins, polls and leaves answered by the gateway on the line's own scripts, against the real queue
// and booking services: the same answers as the queue service's, on the same line.
import { createConcert } from '@tickets/booking-service/ops'
import { USER_ID_HEADER, signUserToken } from '@tickets/contracts/auth'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../src/app.js'
import { testConfig, TEST_SECRET } from '../helpers/build-test-app.js'
import { realLine } from '../helpers/real-services.js'
import { fromGateway } from '@tickets/testkit'

// The line's steps run only when a test says (a manual tick): admissions happen exactly where the test wants them.
const { iso, bookingDb, bookingUrl, queueUrl, queue } = await realLine(
  import.meta.url,
  { ADMISSION_RATE_PER_SECOND: '5', ADMISSION_TICK_MS: '100', INVENTORY_RESYNC_SECONDS: '3600' },
  { admissionLoop: false },
)
const gateway = await buildApp(
  testConfig(iso.redisPrefix, { QUEUE_URLS: queueUrl, BOOKING_URLS: bookingUrl, PAYMENT_URLS: bookingUrl, LINE_SUMMARY_REFRESH_MS: '50', LINE_SUMMARY_MAX_AGE_MS: '60000' }),
  {
    defaultMetrics: false,
  },
)
afterAll(() => gateway.close())

const { concertId } = await createConcert(bookingDb, { title: 'At the edge', dates: 1, seatsPerSchedule: 100 })
const auth = async (user: string) => `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: user })}`
const joinAtGateway = async (user: string, payload: unknown = { concertId }) =>
  gateway.inject({ method: 'POST', url: '/api/queue/token', headers: { authorization: await auth(user) }, payload: payload as object })
const pollAtGateway = async (user: string, token: string) =>
  gateway.inject({ method: 'GET', url: '/api/queue/token', headers: { authorization: await auth(user), 'x-queue-token': token } })
const leaveAtGateway = async (user: string, token: string) =>
  gateway.inject({ method: 'DELETE', url: '/api/queue/token', headers: { authorization: await auth(user), 'x-queue-token': token } })
const joinAtQueue = (user: string) => queue.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { [USER_ID_HEADER]: user }, payload: { concertId } }))
const pollAtQueue = (user: string, token: string) =>
  queue.inject(fromGateway({ method: 'GET', url: '/api/queue/token', headers: { [USER_ID_HEADER]: user, 'x-queue-token': token } }))

async function answeredHere(move: string): Promise<number> {
  const metric = await gateway.metrics.getSingleMetric('gateway_queue_answers_total')?.get()
  return (metric?.values ?? []).filter((v) => v.labels.move === move).reduce((sum, v) => sum + v.value, 0)
}

// The first join of a concert goes to the queue service (which asks booking whether the concert
// exists); once a step ran, the line has a summary and the gateway answers.
const first = await joinAtGateway('edge-0')
expect(first.statusCode).toBe(201)
await vi.waitFor(
  async () => {
    await queue.queue.tick()
    const before = await answeredHere('join')
    expect((await joinAtGateway('edge-0')).statusCode).toBe(201)
    expect(await answeredHere('join')).toBe(before + 1)
  },
  { timeout: 5_000, interval: 150 },
)

describe('the waiting room at the edge', () => {
  it('when a fan joins at the gateway, then the queue service sees the same place and a re-join gives the same token', async () => {
    const before = await answeredHere('join')
    const here = await joinAtGateway('edge-1')
    expect(here.statusCode).toBe(201)
    expect(await answeredHere('join')).toBe(before + 1)
    expect(here.headers['retry-after']).toBeDefined()
    const there = await joinAtQueue('edge-1')
    expect(there.json()).toEqual(here.json())
    expect(there.headers['retry-after']).toBe(here.headers['retry-after'])
    expect((await pollAtQueue('edge-1', here.json().token)).json()).toMatchObject({ status: 'WAITING', position: here.json().position })
  })

  it('when the line admits a fan who joined at the gateway, then the poll says ACTIVE with a token the gate takes', async () => {
    const joined = (await joinAtGateway('edge-2')).json()
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 110))
      await queue.queue.tick()
    }
    const before = await answeredHere('poll')
    const polled = await pollAtGateway('edge-2', joined.token)
    expect(await answeredHere('poll')).toBe(before + 1)
    expect(polled.statusCode).toBe(200)
    expect(polled.json()).toMatchObject({ status: 'ACTIVE', position: 0 })
    expect(polled.json()).toEqual((await pollAtQueue('edge-2', joined.token)).json())
    const schedules = await gateway.inject({ method: 'GET', url: `/api/concerts/${concertId}/schedules` })
    const scheduleId = schedules.json().schedules[0].scheduleId
    const seats = await gateway.inject({
      method: 'GET',
      url: `/api/concerts/${concertId}/schedules/${scheduleId}/seats`,
      headers: { authorization: await auth('edge-2'), 'x-queue-token': polled.json().token },
    })
    expect(seats.statusCode).toBe(200)
  })

  it('when a fan leaves at the gateway, then the line no longer holds the place, and a second leave says so', async () => {
    const joined = (await joinAtGateway('edge-3')).json()
    const before = await answeredHere('leave')
    expect((await leaveAtGateway('edge-3', joined.token)).statusCode).toBe(204)
    expect(await answeredHere('leave')).toBe(before + 1)
    expect((await pollAtQueue('edge-3', joined.token)).json().status).toBe('EXPIRED')
    const again = await leaveAtGateway('edge-3', joined.token)
    expect(again.statusCode).toBe(404)
    expect(again.json().code).toBe('QUEUE_NOT_IN_LINE')
  })

  it('when the request is out of the ordinary, then the queue service answers it as before', async () => {
    const extra = await joinAtGateway('edge-4', { concertId, seat: 'A1' })
    expect(extra.statusCode).toBe(400)
    const unknown = await joinAtGateway('edge-4', { concertId: 'no-such-concert' })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().code).toBe('QUEUE_CONCERT_NOT_FOUND')
    const joined = (await joinAtGateway('edge-4')).json()
    const foreign = await pollAtGateway('edge-5', joined.token)
    expect(foreign.statusCode).toBe(403)
    expect(foreign.json().code).toBe('QUEUE_TOKEN_FORBIDDEN')
  })

  it('when the concert sells out, then a join at the gateway is refused with QUEUE_SOLD_OUT', async () => {
    await queue.queue.soldOutChanged({ concertId, soldOut: true, occurredAt: new Date().toISOString() })
    const refused = await joinAtGateway('edge-6')
    expect(refused.statusCode).toBe(409)
    expect(refused.json().code).toBe('QUEUE_SOLD_OUT')
    await queue.queue.soldOutChanged({ concertId, soldOut: false, occurredAt: new Date().toISOString() })
  })
})
