import { signUserToken } from '@tickets/contracts/auth'
import { describe, expect, it } from 'vitest'
import { activeQueueHeaders, buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { realServices } from './helpers/real-services.js'
import { anUpstream } from './helpers/upstream.js'

const services = await realServices(import.meta.url)
const queue = await anUpstream('queue')
const { app } = await buildTestApp(import.meta.url, { QUEUE_URLS: queue.url, BOOKING_URLS: services.bookingUrl, PAYMENT_URLS: services.paymentUrl })

const CONCERT_ID = '01936b2e-0000-7000-8000-000000000001'
const SCHEDULE_ID = '01936b2e-0000-7000-8000-000000000010'
const JSON_TYPE = { 'content-type': 'application/json' }

async function asFan(userId: string) {
  return { authorization: `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`, ...(await activeQueueHeaders(userId, CONCERT_ID)) }
}

describe('a request without a body that says Content-Type: application/json', () => {
  it('when a fan gives up a hold with it, then the gateway and booking both serve the DELETE', async () => {
    const fan = await asFan('1')
    const held = await app.inject({ method: 'POST', url: '/api/reservations', headers: fan, payload: { scheduleId: SCHEDULE_ID, seatNumber: 1 } })
    expect(held.statusCode).toBe(201)
    const url = `/api/reservations/${held.json().reservationId}`

    const res = await app.inject({ method: 'DELETE', url, headers: { ...fan, ...JSON_TYPE } })

    expect(res.statusCode).toBe(204)
    expect((await app.inject({ method: 'GET', url, headers: fan })).json().status).toBe('CANCELLED')
  })

  it('when a read carries it, then the answer is the same as without it', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/points', headers: { ...(await asFan('2')), ...JSON_TYPE } })
    expect(res.statusCode).toBe(200)
  })

  it('when a route that requires a body gets none, then the service refuses it with 400 COMMON_VALIDATION', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/reservations', headers: { ...(await asFan('3')), ...JSON_TYPE } })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json()).toMatchObject({ code: 'COMMON_VALIDATION', errors: [{ path: 'body' }] })
  })
})
