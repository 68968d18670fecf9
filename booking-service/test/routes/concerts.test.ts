import { describe, expect, it } from 'vitest'
import { seedDemoCatalogue } from '../../src/ops.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { aConcert } from '../helpers/factories.js'
import { fromGateway } from '@tickets/testkit'

const { app, url } = await buildTestApp(import.meta.url)
await seedDemoCatalogue(url)

describe('GET /api/concerts', () => {
  it('lists the concerts on sale', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/concerts' }))
    expect(res.statusCode).toBe(200)
    expect(res.json().concerts).toHaveLength(3)
    expect(res.json().concerts[0]).toMatchObject({ concertId: expect.any(String), title: expect.any(String) })
  })
})

describe('GET /api/concerts/:concertId/schedules', () => {
  it('when the gateway has just stopped waiting, then no connection is waited for: 503 with Retry-After, never a 500', async () => {
    const { concertId } = await aConcert(app)
    // Within the clock allowance, so taken, but with no time left to wait for a connection (a Prisma read).
    const res = await app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concertId}/schedules` }, -200))
    // A connection free at once is taken (nothing waited for); otherwise the answer is an immediate 503.
    if (res.statusCode === 200) return
    expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: 503, code: 'COMMON_OVERLOADED' })
    expect(res.headers['retry-after']).toBeDefined()
  })

  it('lists the dates with 50 available seats each', async () => {
    const { concerts } = (await app.inject(fromGateway({ method: 'GET', url: '/api/concerts' }))).json()
    const res = await app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${concerts[0].concertId}/schedules` }))
    expect(res.statusCode).toBe(200)
    const { schedules } = res.json()
    expect(schedules).toHaveLength(2)
    for (const s of schedules) expect(s).toMatchObject({ totalSeats: 50, availableSeats: 50, concertId: concerts[0].concertId })
  })

  it('when the concert does not exist, then 404 BOOKING_CONCERT_NOT_FOUND', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/concerts/nope/schedules' }))
    expect(res.statusCode).toBe(404)
    expect(res.json().code).toBe('BOOKING_CONCERT_NOT_FOUND')
  })

  it('when the id has characters no id has, then 400', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${encodeURIComponent("1' OR 1=1")}/schedules` }))
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('COMMON_VALIDATION')
  })
})

describe('the admin listener', () => {
  it('GET /health/dependencies reports database, redis and nats UP', async () => {
    const res = await app.admin.inject({ method: 'GET', url: '/health/dependencies' })
    expect(res.json()).toMatchObject({ status: 'UP', dependencies: { database: { status: 'UP' }, redis: { status: 'UP' }, nats: { status: 'UP' } } })
  })
})
