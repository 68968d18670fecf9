import { signUserToken } from '@tickets/contracts/auth'
import { fromGateway } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { activeQueueHeaders, buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { realServices } from './helpers/real-services.js'
import { anUpstream } from './helpers/upstream.js'

const services = await realServices(import.meta.url)
const queue = await anUpstream('queue')
const { app } = await buildTestApp(import.meta.url, { QUEUE_URLS: queue.url, BOOKING_URLS: services.bookingUrl, PAYMENT_URLS: services.paymentUrl })

const as = async (userId: string) => ({ authorization: `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}` })
const balance = async (userId: string) => (await app.inject({ method: 'GET', url: '/api/points', headers: await as(userId) })).json().balance as number
const charge = async (userId: string, amount: number, key: string) =>
  app.inject({ method: 'POST', url: '/api/points/charge', headers: { ...(await as(userId)), 'idempotency-key': key }, payload: { amount } })

async function aDemoSchedule() {
  const [concert] = (await services.booking.inject(fromGateway({ method: 'GET', url: '/api/concerts' }))).json().concerts as { concertId: string }[]
  const [schedule] = (await services.booking.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concert!.concertId}/schedules` }))).json().schedules as {
    scheduleId: string
  }[]
  return { concertId: concert!.concertId, scheduleId: schedule!.scheduleId }
}

async function hold(userId: string, seatNumber: number) {
  const { concertId, scheduleId } = await aDemoSchedule()
  const res = await app.inject({
    method: 'POST',
    url: '/api/reservations',
    headers: { ...(await as(userId)), ...(await activeQueueHeaders(userId, concertId)) },
    payload: { scheduleId, seatNumber },
  })
  expect(res.statusCode).toBe(201)
  return { concertId, reservationId: res.json().reservationId as string }
}

describe('user ids that differ only in case', () => {
  it('when SEC42 asks for points, then it sees its own balance, never sec42s', async () => {
    expect((await charge('sec42', 5_000, 'sec42-first')).statusCode).toBe(200)
    expect(await balance('SEC42')).toBe(0)
    expect(await balance('sec42')).toBe(5_000)
  })

  it('when SEC42 sends an Idempotency-Key sec42 used, then it is a new request and not sec42s stored reply', async () => {
    const first = await charge('sec42', 700, 'shared-key')
    const other = await charge('SEC42', 700, 'shared-key')
    expect(other.statusCode).toBe(200)
    expect(other.headers['idempotent-replayed']).toBeUndefined()
    expect(other.json()).toEqual({ balance: 700 })
    expect(first.json()).not.toEqual(other.json())
  })

  it('when keys differ only in case, then they are two requests for one user', async () => {
    await charge('case-keys', 10, 'Key-A')
    const other = await charge('case-keys', 10, 'key-a')
    expect(other.headers['idempotent-replayed']).toBeUndefined()
    expect(await balance('case-keys')).toBe(20)
  })

  it('when SEC42 pays its own hold with no points, then it is refused and sec42s points stay', async () => {
    await charge('rich1', 1_000_000, 'rich1-topup')
    const { concertId, reservationId } = await hold('RICH1', 1)
    const res = await app.inject({
      method: 'POST',
      url: '/api/payments',
      headers: { ...(await as('RICH1')), ...(await activeQueueHeaders('RICH1', concertId)), 'idempotency-key': 'pay-1' },
      payload: { reservationId },
    })
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('PAYMENT_INSUFFICIENT_POINTS')
    expect(await balance('rich1')).toBe(1_000_000)
  })

  it('when SEC42 reads or cancels a hold of sec42, then it is 404 and the hold stays', async () => {
    const { reservationId } = await hold('holder7', 2)
    const other = await as('HOLDER7')
    expect((await app.inject({ method: 'GET', url: `/api/reservations/${reservationId}`, headers: other })).statusCode).toBe(404)
    expect((await app.inject({ method: 'DELETE', url: `/api/reservations/${reservationId}`, headers: other })).statusCode).toBe(404)
    const own = await app.inject({ method: 'GET', url: `/api/reservations/${reservationId}`, headers: await as('holder7') })
    expect(own.json().status).toBe('HELD')
  })
})
